// An image file's bytes (by blob or thumbnail key) as a `blob:` URL for <img>. Keys are content
// addresses, so a fetched file is cached for good under ["image", key].
import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { call } from "../../lib/api";

export function imageQuery(key: string | null) {
  return {
    queryKey: ["image", key] as const,
    queryFn: () => call(commands.imageFile(key!)),
    enabled: key !== null,
    staleTime: Infinity,
    gcTime: 5 * 60_000,
    retry: false,
  };
}

/** The file of `key` as a blob: URL (null while loading or when it failed: see `failed`). */
export function useImageUrl(key: string | null): { url: string | null; failed: boolean } {
  const file = useQuery(imageQuery(key));
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!file.data) return;
    const u = URL.createObjectURL(new Blob([new Uint8Array(file.data.bytes)], { type: file.data.content_type }));
    setUrl(u);
    return () => {
      URL.revokeObjectURL(u);
      setUrl(null);
    };
  }, [file.data]);
  return { url, failed: file.isError };
}
