// tfjs_reference.cjs - the reference side of tests/e2e_mobilenet.py: runs the
// nsfwjs TF.js graph model with @tensorflow/tfjs's pure-JS CPU backend on the
// input tensor our C code wrote and writes the pooled features and the class
// probabilities as raw float32 files.
// Usage: node tfjs_reference.cjs TFJS_PROJECT MODEL_DIR INPUT.f32 N SIZE OUT_PREFIX
'use strict';
const fs = require('fs');
const path = require('path');

const [tfjsDir, modelDir, inputPath, nArg, sizeArg, outPrefix] = process.argv.slice(2);
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [tfjsDir] }));

async function main() {
  await tf.setBackend('cpu');
  const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json')));
  const buffers = json.weightsManifest.flatMap(g => g.paths.map(p => fs.readFileSync(path.join(modelDir, p + '.bin'))));
  const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap(g => g.weights),
      weightData,
      format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
    }),
  };
  const model = await tf.loadGraphModel(handler);
  const n = Number(nArg), size = Number(sizeArg);
  const raw = fs.readFileSync(inputPath);
  const input = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, n * size * size * 3), [n, size, size, 3]);
  const featureNode = json.modelTopology.node.find(x => x.op === 'Squeeze').name;
  const [features, probs] = model.execute(input, [featureNode, 'Identity']);
  fs.writeFileSync(outPrefix + '.features.f32', Buffer.from((await features.data()).buffer));
  fs.writeFileSync(outPrefix + '.probs.f32', Buffer.from((await probs.data()).buffer));
  console.log(`tfjs ${tf.version.tfjs} backend ${tf.getBackend()}: ${n} images, features ${features.shape}, ` +
              `probs ${probs.shape}`);
}
main().catch(e => { console.error(e); process.exit(1); });
