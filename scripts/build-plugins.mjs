// Compiles each plugin package under plugins/ with its own tsconfig (after Sluice itself, whose
// declarations the plugins are typed against).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
for (const name of readdirSync(path.join(root, "plugins")).sort()) {
  const project = path.join(root, "plugins", name);
  if (existsSync(path.join(project, "tsconfig.json")))
    execFileSync(process.execPath, [tsc, "-p", project], { stdio: "inherit" });
}
