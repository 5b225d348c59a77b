// HashiCorp's own HCL libraries (Go, compiled to WebAssembly by the CDK Terrain project) over the
// .tf files named on the command line: `hcl2json` parses each one with hclsyntax (the parser of
// Terraform and OpenTofu) and `hcl-tools` formats it with hclwrite (the formatter `terraform fmt`
// runs). Prints one JSON object: {"<path>": {"error": "<the parser's diagnostics>" | null,
// "formatted": "<the file as hclwrite formats it>"}}. With --write first, rewrites each file that
// parses as hclwrite formats it instead (`make terraform-fmt`). No network, no Terraform binary.
"use strict";

const fs = require("fs");
const { parse } = require("@cdktn/hcl2json");
const { format } = require("@cdktn/hcl-tools");

async function main(args) {
  const write = args[0] === "--write";
  const paths = write ? args.slice(1) : args;
  const results = {};
  for (const path of paths) {
    const source = fs.readFileSync(path, "utf8");
    let error = null;
    try {
      await parse(path, source);
    } catch (caught) {
      error = String(caught.message || caught);
    }
    const formatted = await format(source);
    results[path] = { error, formatted };
    if (write && error === null && formatted !== source) {
      fs.writeFileSync(path, formatted);
      process.stderr.write(`formatted ${path}\n`);
    }
  }
  if (!write) {
    // Exit only once the pipe has taken everything (the Go runtime keeps node alive otherwise).
    await new Promise((resolve) => process.stdout.write(JSON.stringify(results), resolve));
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (caught) => {
    process.stderr.write(`hcl_tools: ${caught.stack || caught}\n`);
    process.exit(1);
  },
);
