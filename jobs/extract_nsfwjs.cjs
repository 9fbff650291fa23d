// extract_nsfwjs.cjs - unwraps the TF.js graph model that the nsfwjs npm
// package ships inside browserify .min.js modules (model JSON plus base64
// weight shards) into plain files: OUT/model.json and OUT/<shard>.bin.
// Usage: node jobs/extract_nsfwjs.cjs PACKAGE_DIR MODEL_NAME OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const [pkgDir, modelName, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: extract_nsfwjs.cjs PACKAGE_DIR MODEL_NAME OUT_DIR');
  process.exit(2);
}
const modelDir = path.resolve(pkgDir, 'dist', 'models', modelName);
const modelJson = require(path.join(modelDir, 'model.min.js'));
if (!modelJson || !modelJson.modelTopology || !modelJson.weightsManifest)
  throw new Error(`${modelDir}/model.min.js holds no TF.js graph model`);
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(modelJson));
for (const group of modelJson.weightsManifest) {
  for (const shard of group.paths) {
    const b64 = require(path.join(modelDir, `${shard}.min.js`));
    if (typeof b64 !== 'string') throw new Error(`${shard}.min.js does not export a base64 string`);
    fs.writeFileSync(path.join(outDir, `${shard}.bin`), Buffer.from(b64, 'base64'));
  }
}
console.log(`extract_nsfwjs: ${modelName} -> ${outDir}`);
