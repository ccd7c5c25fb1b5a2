import { createReadStream, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";
import { runOk } from "../support/run.js";
import { makeTempDir } from "../support/tmp.js";

export interface TlsMaterial {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by another CA: must be refused. */
  strangerCert: string;
  strangerKey: string;
}

/** A throwaway CA, a server certificate for 127.0.0.1 and client certificates, made with openssl. */
export async function makeTlsMaterial(): Promise<TlsMaterial> {
  const dir = makeTempDir("tls");
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => runOk("openssl", args, { cwd: dir });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  for (const ca of ["ca", "other-ca"]) {
    await ssl(
      "req",
      "-x509",
      ...newKey,
      "-keyout",
      f(`${ca}.key`),
      "-out",
      f(`${ca}.crt`),
      "-days",
      "2",
      "-subj",
      `/CN=${ca}`,
    );
  }
  /** A certificate `name` signed by `ca`, with the given X.509 v3 extensions. */
  const issue = async (name: string, ca: string, extensions: string) => {
    writeFileSync(f(`${name}.ext`), extensions);
    await ssl(
      "req",
      ...newKey,
      "-keyout",
      f(`${name}.key`),
      "-out",
      f(`${name}.csr`),
      "-subj",
      `/CN=${name}`,
    );
    await ssl(
      "x509",
      "-req",
      "-in",
      f(`${name}.csr`),
      "-CA",
      f(`${ca}.crt`),
      "-CAkey",
      f(`${ca}.key`),
      "-CAcreateserial",
      "-out",
      f(`${name}.crt`),
      "-days",
      "2",
      "-extfile",
      f(`${name}.ext`),
    );
  };
  await issue("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  await issue("client", "ca", "extendedKeyUsage=clientAuth\n");
  await issue("stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
  const read = (name: string) => readFileSync(f(name), "utf8");
  return {
    ca: read("ca.crt"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    strangerCert: read("stranger.crt"),
    strangerKey: read("stranger.key"),
  };
}

/** An HTTPS file server for `root` that requires a client certificate signed by the CA. */
export async function startTlsUpstream(
  root: string,
  tls: TlsMaterial,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(
    { key: tls.serverKey, cert: tls.serverCert, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "https://x").pathname));
      const file = join(root, path);
      if (!file.startsWith(root) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-length": statSync(file).size });
      createReadStream(file).pipe(res);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
