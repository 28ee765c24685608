// The portal is served by every node at /app (src/http/static_site.h): hashed names under
// assets/ are cached for a year, index.html is revalidated on every load.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    // The .gz/.br twins are made by scripts/compress.mjs; no size report (it gzips everything).
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev`: the API comes from a node started with `make run`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
