// Writes a .gz and a .br twin beside each compressible file the build produced, so the server
// answers them without compressing per request (src/http/static_site.h picks one by
// Accept-Encoding). Usage: node scripts/compress.mjs DIST
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dist = process.argv[2] ?? 'dist';
const compressible = /\.(html|js|mjs|css|json|svg|txt|map|webmanifest|ico)$/i;
const minBytes = 256; // smaller files gain nothing worth a second request path

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (entry.isFile()) yield p;
  }
}

let raw = 0, gz = 0, br = 0, count = 0;
for (const file of files(dist)) {
  if (!compressible.test(file) || statSync(file).size < minBytes) continue;
  const data = readFileSync(file);
  const g = zlib.gzipSync(data, { level: 9 });
  const b = zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  writeFileSync(file + '.gz', g);
  writeFileSync(file + '.br', b);
  raw += data.length; gz += g.length; br += b.length; count++;
}
const kb = (n) => (n / 1024).toFixed(1) + ' KiB';
console.log(`compress: ${count} files, ${kb(raw)} -> gzip ${kb(gz)}, brotli ${kb(br)}`);
