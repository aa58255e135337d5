import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` talks to a gateway on 127.0.0.1:8000 (`make dev`) through this proxy, so
// the app always calls its own origin, as it does when the gateway serves web/dist.
const gateway = process.env.PORTAL_GATEWAY_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: gateway, changeOrigin: false },
      "/schema": { target: gateway },
    },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
