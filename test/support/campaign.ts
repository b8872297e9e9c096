/** Settings of the randomised tests' campaigns, which a longer run than CI's sets from the environment. */

/** The positive integer in environment variable `name`, else `fallback`; a malformed value fails the test. */
export function campaignSetting(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name}=${text} is not a positive integer`);
  return value;
}
