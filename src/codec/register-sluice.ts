/**
 * Preload it (`node --import <sluice>/dist/src/codec/register-sluice.js …`) to let code outside any
 * `node_modules` that holds Sluice — plugin tests, scripts — import the `sluice` package by name.
 */
import { resolveSluiceForPlugins } from "./sluice-specifiers.js";

resolveSluiceForPlugins();
