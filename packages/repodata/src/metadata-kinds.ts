export const metadataKinds = ["primary", "filelists", "other"] as const;
export type MetadataKind = (typeof metadataKinds)[number];

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const COMMON_NS = "http://linux.duke.edu/metadata/common";
export const FILELISTS_NS = "http://linux.duke.edu/metadata/filelists";
export const OTHER_NS = "http://linux.duke.edu/metadata/other";
export const RPM_NS = "http://linux.duke.edu/metadata/rpm";
export const REPO_NS = "http://linux.duke.edu/metadata/repo";

const roots: Record<MetadataKind, { element: string; namespaces: string }> = {
  primary: { element: "metadata", namespaces: `xmlns="${COMMON_NS}" xmlns:rpm="${RPM_NS}"` },
  filelists: { element: "filelists", namespaces: `xmlns="${FILELISTS_NS}"` },
  other: { element: "otherdata", namespaces: `xmlns="${OTHER_NS}"` },
};

/** The XML declaration and opening root element, as createrepo_c writes them (ends with a newline). */
export function metadataHeader(kind: MetadataKind, packageCount: number): string {
  const { element, namespaces } = roots[kind];
  return `${XML_DECLARATION}<${element} ${namespaces} packages="${packageCount}">\n`;
}

/** The closing root element; like createrepo_c, without a trailing newline. */
export function metadataFooter(kind: MetadataKind): string {
  return `</${roots[kind].element}>`;
}
