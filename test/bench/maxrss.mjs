/**
 * Bench fallback, used only when /usr/bin/time is missing: preloaded with --import into a
 * measured Node process, writes process.resourceUsage().maxRSS (KiB) to $BENCH_MAXRSS_FILE
 * when the process exits.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
