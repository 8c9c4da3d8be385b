export const BUNDLE: string;
export const INPUTS_MARK: string;
export function buildClient(): Promise<{ bundle: string; inputs: number }>;
