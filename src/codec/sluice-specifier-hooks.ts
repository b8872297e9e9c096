/**
 * The resolve hook `sluice-specifiers.ts` installs (it runs on Node's loader thread): the `sluice`
 * specifiers map to this Sluice's own modules; everything else resolves as usual.
 */

let specifiers: Readonly<Record<string, string>> = {};

/** Receives the specifier map. */
export function initialize(data: { readonly specifiers: Readonly<Record<string, string>> }): void {
  specifiers = data.specifiers;
}

type NextResolve = (specifier: string, context: unknown) => Promise<{ url: string }>;

/** Maps `sluice…` specifiers; passes on the rest. */
export async function resolve(
  specifier: string,
  context: unknown,
  next: NextResolve,
): Promise<{ url: string; shortCircuit?: boolean }> {
  const target = specifiers[specifier];
  if (target !== undefined) return { url: target, shortCircuit: true };
  return next(specifier, context);
}
