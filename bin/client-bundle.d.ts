export function freshClientBundle(): string | undefined;
export function runClientCommand(args: string[]): Promise<number>;
