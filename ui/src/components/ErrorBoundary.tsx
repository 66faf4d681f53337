import { Component, type ReactNode } from "react";

/** A bug in the UI shows what broke instead of a blank window. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="state state-error" role="alert" data-testid="crash">
        <div className="state-title">Something went wrong in Stockdesk</div>
        <pre className="state-body mono">{`${this.state.error.name}: ${this.state.error.message}\n\n${this.state.error.stack ?? ""}`}</pre>
        <button className="btn" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
