/**
 * Child process for the kill-and-resume test: collects from MP_API_ENDPOINT into argv[2] (cache root)
 * and prints "RESULT <json>" with the collected ids when done. The key comes from MP_API_KEY.
 */
import { collectMpXas } from "../../lib/data/mp-api";

async function main(): Promise<void> {
  const res = await collectMpXas(
    { absorbingElement: "O", edge: "K", spectrumType: "XANES", chemsys: ["*-O", "*-*-O"] },
    { cacheDir: process.argv[2], pageSize: Number(process.argv[3] ?? 5), backoffMs: 20, timeoutMs: 5000 },
  );
  const ids = res.documents.map((d) => d.spectrum_id);
  process.stdout.write(`RESULT ${JSON.stringify({ ids, pagesFetched: res.pagesFetched, pagesFromCache: res.pagesFromCache, status: res.status, staleTempFilesRemoved: res.staleTempFilesRemoved })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
