/**
 * `sluice new-codec NAME`: scaffolds a codec plugin package — a working codec (whitespace-separated
 * numbers, one record per line) and a test that runs Sluice's conformance kit and a real server on it —
 * that passes its tests as generated. Plain JavaScript (ESM, JSDoc types), so it runs without a build.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./errors.js";

/** The module that makes `sluice` importable from anywhere (preloaded by the scaffold's test script). */
const REGISTER = fileURLToPath(new URL("./codec/register-sluice.js", import.meta.url));

const codecSource = (name: string) => `/**
 * ${name}: one record per line, the model's input values separated by spaces or tabs
 * (media type application/x-${name}). Replace the decoder with your format's.
 */
import {
  LineFramer,
  RecordError,
  describeIntegerType,
  excerpt,
  integerRange,
  isIntegerIn,
  totalInputWidth,
} from "sluice/codec-kit";

const latin1 = new TextDecoder("latin1");

/** @implements {import("sluice").RecordDecoder} */
class Decoder {
  /** @param {import("sluice").CodecContext} context */
  constructor(context) {
    this.width = totalInputWidth(context.signature);
    this.inputs = context.signature.inputs;
    this.widths = this.inputs.map((input) => input.width);
    // An integer input's bounds: a typed array would store a value past them wrapped around.
    this.ranges = this.inputs.map((input) => integerRange(input.type));
  }

  /**
   * @param {import("sluice").Frame} frame
   * @param {import("sluice").RecordSink} sink
   */
  decode(frame, sink) {
    const fields = latin1.decode(frame.bytes).trim().split(/\\s+/);
    if (fields.length !== this.width) {
      throw new RecordError("${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_WIDTH", \`record has \${fields.length} value(s); the model takes \${this.width}\`);
    }
    const slots = sink.beginRecord();
    let k = 0;
    this.widths.forEach((width, input) => {
      for (let j = 0; j < width; j++, k++) {
        const value = Number(fields[k]);
        if (Number.isNaN(value)) throw new RecordError("${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_VALUE", \`value \${k} \${excerpt(fields[k])} is not a number\`);
        const range = this.ranges[input];
        if (range && !isIntegerIn(value, range)) {
          throw new RecordError("${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_VALUE", \`value \${k} (\${value}) is not \${describeIntegerType(this.inputs[input].type)}\`);
        }
        slots.arrays[input][slots.offset(input) + j] = value;
      }
    });
  }
}

/** @type {import("sluice").Codec} */
const codec = {
  apiVersion: 1,
  name: ${JSON.stringify(name)},
  mediaTypes: [${JSON.stringify(`application/x-${name}`)}],
  extensions: [${JSON.stringify(`.${name}`)}],
  input: {
    createFramer: () => new LineFramer(),
    createDecoder: (context) => new Decoder(context),
  },
};

export default codec;
`;

const testSource = (name: string) => `import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  checkDecoderConformance,
  contextFor,
  mlpClassifier,
  modelDirectory,
  signatureOf,
  startCodecTestServer,
} from "sluice/testing";
import codec from "../index.js";

const PLUGIN = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const text = (s) => new TextEncoder().encode(s);

describe(${JSON.stringify(name)}, () => {
  it("passes Sluice's conformance suite", () => {
    checkDecoderConformance(codec, {
      context: contextFor(signatureOf({ features: ["float32", 4] }), ${JSON.stringify(`application/x-${name}`)}),
      body: text("1 2 3 4\\n5\\t6 7 8\\n"),
      expected: [[[1, 2, 3, 4]], [[5, 6, 7, 8]]],
      refused: [text("1 2 3\\n"), text("1 2 x 4\\n")],
    });
  });

  describe("served by Sluice", () => {
    let server;
    before(async () => {
      const dir = modelDirectory(mlpClassifier({ inputWidth: 4, hidden: 8, classes: 3, seed: 1 }));
      server = await startCodecTestServer(dir, { plugins: [PLUGIN] });
    });
    after(() => server.close());

    it("answers one record per line", async () => {
      const response = await server.invoke("1 2 3 4\\n5 6 7 8\\n", { "content-type": ${JSON.stringify(`application/x-${name}`)}, accept: "text/csv" });
      assert.equal(response.status, 200);
      assert.equal((await response.text()).trim().split("\\n").length, 2);
    });
  });
});
`;

/** Writes the scaffold into `dir` (which must not exist, or be empty); returns the files written. */
export function scaffoldCodec(name: string, dir: string): string[] {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new ConfigError(`new-codec ${JSON.stringify(name)}: a codec name is lower case letters, digits and dashes`);
  }
  if (existsSync(path.join(dir, "package.json"))) throw new ConfigError(`new-codec: ${dir} already holds a package`);
  mkdirSync(path.join(dir, "test"), { recursive: true });
  const files: Record<string, string> = {
    "package.json": `${JSON.stringify(
      {
        name: `sluice-codec-${name}`,
        version: "0.1.0",
        type: "module",
        exports: "./index.js",
        scripts: { test: `node --import ${REGISTER} --test test/` },
        peerDependencies: { sluice: ">=0.1.0" },
        peerDependenciesMeta: { sluice: { optional: true } },
      },
      null,
      2,
    )}\n`,
    "index.js": codecSource(name),
    "test/codec.test.js": testSource(name),
    "README.md":
      `# sluice-codec-${name}\n\nA Sluice codec plugin for \`application/x-${name}\`.\n\n` +
      "```sh\nnpm test                                   # the conformance kit and a real server\n" +
      `SLUICE_PLUGINS=${dir} sluice serve   # or list it under "codecs" in the model's sluice.json\n` +
      "```\n",
  };
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
  return Object.keys(files).map((file) => path.join(dir, file));
}
