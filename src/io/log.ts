/** Where the action's own lines go: the runner's log in a run, a recorder in tests. */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}
