/**
 * The files of a k-fold training: SageMaker's XGBoost, given `_kfold`, saves one booster per fold as
 * `xgboost-model-0` … `xgboost-model-<k-1>`, and its container serves them together (see
 * `boostersToOnnx`).
 */
import { readdirSync } from "node:fs";
import path from "node:path";

const FOLD_FILE = /^xgboost-model-(\d+)$/;

/** The fold files among `names`, in fold order (`-2` before `-10`). */
export function foldFileNames(names: readonly string[]): string[] {
  return names
    .filter((name) => FOLD_FILE.test(name))
    .sort((a, b) => Number(FOLD_FILE.exec(a)?.[1]) - Number(FOLD_FILE.exec(b)?.[1]));
}

/** For a fold file, every fold file of its directory, in order; undefined for any other file. */
export function foldSetOf(file: string): string[] | undefined {
  if (!FOLD_FILE.test(path.basename(file))) return undefined;
  const dir = path.dirname(file);
  return foldFileNames(readdirSync(dir)).map((name) => path.join(dir, name));
}
