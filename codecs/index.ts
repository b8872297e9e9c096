/**
 * Sluice's built-in codecs. The server loads this module exactly as it loads a third-party plugin.
 */
import type { Codec } from "../src/index.js";
import { csvCodec } from "./csv.js";
import { jsonCodec } from "./json.js";
import { jsonLinesCodec } from "./jsonlines.js";

const builtinCodecs: readonly Codec[] = [csvCodec, jsonCodec, jsonLinesCodec];
export default builtinCodecs;
