import { describe, expect, it } from "vitest";
import { fileActionsBlocked, fileName, isImagePath, splitDropped } from "./files";

describe("image files", () => {
  it("names files on any platform", () => {
    expect(fileName("/home/ana/front.jpg")).toBe("front.jpg");
    expect(fileName("C:\\Users\\ana\\back.PNG")).toBe("back.PNG");
    expect(fileName("plain.gif")).toBe("plain.gif");
  });

  it("recognises the accepted extensions, case-insensitively", () => {
    for (const p of ["a.jpg", "a.JPEG", "/x/y.png", "z.webp", "q.GIF"]) expect(isImagePath(p)).toBe(true);
    for (const p of ["a.pdf", "/x/photos", "/x/.png", "noext", "a.png.zip"]) expect(isImagePath(p)).toBe(false);
  });

  it("keeps the order of dropped images and lists the rest", () => {
    expect(splitDropped(["/a/2.png", "/a/notes.txt", "/a/1.jpg", "/a/dir"])).toEqual({
      images: ["/a/2.png", "/a/1.jpg"],
      skipped: ["/a/notes.txt", "/a/dir"],
    });
  });

  it("blocks file actions while typed changes are unsaved", () => {
    const idle = { dirty: false, saving: false, busy: false, stale: false };
    expect(fileActionsBlocked(idle)).toBeNull();
    expect(fileActionsBlocked({ ...idle, dirty: true })).toMatch(/Save or revert/);
    expect(fileActionsBlocked({ ...idle, saving: true })).toMatch(/Saving/);
    expect(fileActionsBlocked({ ...idle, busy: true })).toMatch(/Adding/);
    expect(fileActionsBlocked({ ...idle, stale: true })).toMatch(/newer version/);
  });
});
