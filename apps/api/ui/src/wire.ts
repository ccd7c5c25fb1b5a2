/**
 * The JSON of the dashboard's read-only endpoints (`/ui/api/...`): one definition for the server that
 * writes it (src/ui-read-model.ts) and the page that reads it. Types only, nothing of the DOM.
 */
export interface SyncView {
  syncing: boolean;
  phase: string;
  start_time: string;
  end_time: string;
  total_packages: number;
  synced_packages: number;
  downloaded_packages: number;
  downloaded_bytes: number;
  bytes_per_second: number;
  sync_error: string;
}

export interface RepositoryOverview {
  repository: string;
  mirror: boolean;
  packages: number;
  syncing: boolean;
  /** When the served repodata was last published (our repomd.xml revision time); "" when never. */
  last_publish: string;
  /** A mirror's sync progress and outcome; none for a hosted repository. */
  sync?: SyncView;
  /** The repository's index cannot be read: why. */
  error?: string;
}

export interface PackageRow {
  id: string;
  name: string;
  version: string;
  release: string;
  architecture: string;
  size: number;
  build_time: string;
  summary: string;
}
