import type { ButtonHTMLAttributes } from "react";
import type { Permission } from "../../bindings";
import { usePermissions } from "./permissions";

type GatedProps = ButtonHTMLAttributes<HTMLButtonElement> & { permission: Permission };

/**
 * A button for something the person may or may not do. When they may not, it stays visible but
 * does nothing, and says why on hover and to screen readers (a disabled button would show no
 * tooltip).
 */
export function GatedButton({ permission, onClick, title, className = "btn", disabled, ...rest }: GatedProps) {
  const why = usePermissions().why(permission);
  return (
    <button
      {...rest}
      className={className}
      disabled={disabled && why === null}
      aria-disabled={why !== null || disabled ? true : undefined}
      data-denied={why !== null ? permission : undefined}
      title={why ?? title}
      onClick={why === null ? onClick : (e) => e.preventDefault()}
    />
  );
}

/** "Prices need a manager", shown where the person may not do `permission` (nothing otherwise). */
export function PermHint({ permission }: { permission: Permission }) {
  const why = usePermissions().why(permission);
  if (why === null) return null;
  return (
    <span className="perm-hint" data-testid="perm-hint" data-permission={permission}>
      {why}
    </span>
  );
}
