import { Counter, Gauge, type Registry } from 'prom-client';
import type { HttpMetrics } from './context.js';

const ACTIVE_WINDOW_MS = 5 * 60_000;

export interface DoorMetrics extends HttpMetrics {
  requests: Counter<'door' | 'method' | 'status'>;
  versions: Counter<'door'>;
  conflicts: Counter<'door'>;
  /** Marks a user as active through a door (for the active sessions gauge). */
  seen(door: string, key: string): void;
}

/** The HTTP door's metrics, registered on the gateway's registry (never the global one). */
export function doorMetrics(registry: Registry): DoorMetrics {
  const lastSeen = new Map<string, Map<string, number>>();
  const requests = new Counter({ name: 'syncgate_http_requests_total', help: 'HTTP requests answered, per door', labelNames: ['door', 'method', 'status'] as const, registers: [registry] });
  const bytes = new Counter({ name: 'syncgate_http_bytes_total', help: 'Bytes received and sent on the HTTP port, per door', labelNames: ['door', 'direction'] as const, registers: [registry] });
  const versions = new Counter({ name: 'syncgate_http_versions_recorded_total', help: 'File versions recorded through the HTTP door', labelNames: ['door'] as const, registers: [registry] });
  const conflicts = new Counter({ name: 'syncgate_http_conflicts_total', help: 'Conflict copies made through the HTTP door', labelNames: ['door'] as const, registers: [registry] });
  new Gauge({
    name: 'syncgate_http_active_sessions',
    help: 'Distinct authenticated users (per credential kind) seen in the last 5 minutes, per door',
    labelNames: ['door'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const [door, keys] of lastSeen) {
        for (const [k, t] of keys) if (now - t > ACTIVE_WINDOW_MS) keys.delete(k);
        this.set({ door }, keys.size);
      }
    },
  });
  return {
    requests,
    bytes,
    versions,
    conflicts,
    seen(door, key) {
      let keys = lastSeen.get(door);
      if (!keys) lastSeen.set(door, (keys = new Map()));
      keys.set(key, Date.now());
    },
  };
}
