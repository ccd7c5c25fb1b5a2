import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runTool } from "./run-tool.js";

/**
 * A spec exercising what createrepo_c cares about: epochs (and none), all eight dependency
 * kinds with every comparison, Requires(pre/post/preun), rpmlib and self-provided requires,
 * libc.so.6 symbol versions, rich dependencies, dirs/ghosts/config files, file names needing
 * escaping, a package without files, an arch-specific main package with noarch subpackages, unicode text, and a changelog
 * longer than createrepo_c's limit with repeated dates.
 */
const spec = String.raw`
Name:           corpus
Epoch:          7
Version:        2.5.1
Release:        3.test
Summary:        Corpus main package: ünïcödé & <markup> "quotes"
License:        MIT and (GPLv2+ or BSD)
URL:            https://example.invalid/corpus?a=1&b=2
Group:          Test/Ünïcode
Vendor:         Ven & Dor <vendor@example.invalid>
Packager:       Pâckager <packager@example.invalid>
BuildRequires:  make >= 4.0
BuildRequires:  pkgconfig(zlib)
Provides:       corpus-cap = 1:2.0-1
Provides:       corpus-virtual(ünï)
Provides:       corpus-le <= 3
Requires:       /bin/sh
Requires(pre):  /usr/sbin/useradd
Requires(post): /bin/sh
Requires(preun): corpus-preun >= 1.0
Requires:       corpus-lt < 2:1.0-1
Requires:       corpus-gt > 0.9
Requires:       corpus-eq = 5
Requires:       corpus-ge >= 1.0-1
Requires:       corpus-le <= 3
Requires:       (corpus-rich-a or corpus-rich-b)
Requires:       libc.so.6(GLIBC_2.2.5)(64bit)
Requires:       libc.so.6(GLIBC_2.34)(64bit)
Requires:       libc.so.6()(64bit)
Requires:       /etc/corpus/corpus.conf
Requires:       /usr/bin/corpus
Requires:       /usr/share/corpus/README
Recommends:     corpus-rec >= 1.0
Recommends:     corpus-rec2
Suggests:       corpus-sug < 2
Supplements:    (corpus-sup and corpus-other)
Enhances:       corpus-enh = 1:1
Conflicts:      corpus-con < 0.5
Conflicts:      corpus-con2 > 9
Obsoletes:      corpus-old < 2.0
Obsoletes:      corpus-ancient

%description
Main package of the test corpus.
It has ünïcödé, <tags>, & ampersands, "quotes" and	tabs.

%package        -n corpus-noarch
Summary:        A noarch subpackage with its own version
BuildArch:      noarch
Version:        0.1
Release:        1
Requires:       corpus = 7:2.5.1-3.test

%description    -n corpus-noarch
Noarch.

%package        -n corpus-empty
Summary:        A package without files
BuildArch:      noarch
Epoch:          0
Requires(post): corpus
Provides:       corpus-empty-virtual

%description    -n corpus-empty
No files at all.

%prep
%build
%install
mkdir -p %{buildroot}/usr/share/corpus/sub %{buildroot}/etc/corpus %{buildroot}/usr/bin %{buildroot}/usr/sbin %{buildroot}/var/log/corpus %{buildroot}/usr/lib/corpus-noarch
echo readme > %{buildroot}/usr/share/corpus/README
echo x > "%{buildroot}/usr/share/corpus/fïlé & <odd> 'name'.txt"
echo d > %{buildroot}/usr/share/corpus/sub/data.txt
echo k=v > %{buildroot}/etc/corpus/corpus.conf
printf '#!/bin/sh\necho corpus\n' > %{buildroot}/usr/bin/corpus
printf '#!/bin/sh\necho tool\n' > %{buildroot}/usr/sbin/corpus-tool
chmod 0755 %{buildroot}/usr/bin/corpus %{buildroot}/usr/sbin/corpus-tool
echo arch > %{buildroot}/usr/lib/corpus-noarch/data

%pre
true
%post
true
%preun
true

%post -n corpus-empty
true

%files
%dir /usr/share/corpus
/usr/share/corpus/README
"/usr/share/corpus/fïlé & <odd> 'name'.txt"
/usr/share/corpus/sub
%config(noreplace) /etc/corpus/corpus.conf
%dir /etc/corpus
/usr/bin/corpus
/usr/sbin/corpus-tool
%dir /var/log/corpus
%ghost /var/log/corpus/corpus.log
%ghost %config(missingok) /etc/corpus/generated.conf

%files -n corpus-noarch
/usr/lib/corpus-noarch

%files -n corpus-empty

%changelog
* Wed Jan 10 2024 Jürgen Dąbrowski <jd@example.invalid> - 7:2.5.1-3.test
- Ünïcödé entry with <markup> & "quotes"
* Wed Jan 10 2024 Same Day <same@example.invalid> - 7:2.5.1-2
- second entry of the day
* Wed Jan 10 2024 Same Day <same@example.invalid> - 7:2.5.1-1
- third entry of the day
* Tue Jan 09 2024 Trailing Spaces <ts@example.invalid>   
- author with trailing spaces
* Mon Jan 08 2024 A <a@example.invalid> - 8
- eight
* Sun Jan 07 2024 A <a@example.invalid> - 7
- seven
* Sat Jan 06 2024 A <a@example.invalid> - 6
- six
* Fri Jan 05 2024 A <a@example.invalid> - 5
- five
* Thu Jan 04 2024 A <a@example.invalid> - 4
- four
* Wed Jan 03 2024 A <a@example.invalid> - 3
- three, the tenth entry: the limit
* Tue Jan 02 2024 A <a@example.invalid> - 2
- two, beyond the limit
* Mon Jan 01 2024 A <a@example.invalid> - 1
- one, beyond the limit
`;

/** A second, tiny spec: epoch-less, one dependency of each strength, built as binary and source. */
const tinySpec = `
Name:           tinypkg
Version:        1.0
Release:        1
Summary:        Tiny
License:        MIT
BuildArch:      noarch
Requires:       /bin/sh

%description
Tiny.

%prep
%build
%install
mkdir -p %{buildroot}/usr/share/tinypkg
echo hi > %{buildroot}/usr/share/tinypkg/README

%files
/usr/share/tinypkg/README
`;

export interface RpmbuildCorpus {
  /** Directory holding every built .rpm (binary and source), flat. */
  dir: string;
  files: string[];
}

/** Builds the corpus with rpmbuild into `<root>/rpms` (about a second). */
export function buildRpmbuildCorpus(root: string): RpmbuildCorpus {
  const top = join(root, "top");
  const out = join(root, "rpms");
  mkdirSync(join(top, "SPECS"), { recursive: true });
  mkdirSync(out, { recursive: true });
  const defines = [
    "--define",
    `_topdir ${top}`,
    "--define",
    `_rpmdir ${out}`,
    "--define",
    `_srcrpmdir ${out}`,
    "--define",
    "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
  ];
  for (const [name, text] of [
    ["corpus.spec", spec],
    ["tinypkg.spec", tinySpec],
  ] as const) {
    const path = join(top, "SPECS", name);
    writeFileSync(path, text);
    runTool("rpmbuild", ["--quiet", "--nodeps", ...defines, "-ba", path]);
  }
  return {
    dir: out,
    files: readdirSync(out)
      .filter((f) => f.endsWith(".rpm"))
      .sort(),
  };
}
