/**
 * createrepo_c's `cr_is_primary`: files listed in primary.xml (and whose self-requires are
 * dropped): anything under /etc/, /usr/lib/sendmail, and any path containing "bin/".
 */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith("/etc/") || path === "/usr/lib/sendmail" || path.includes("bin/");
}
