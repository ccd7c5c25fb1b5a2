// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata
// polyfill loaded first; ES modules evaluate imports in order, so this one must stay on top.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/** Node's WebCrypto, for @peculiar/x509 (whose `Crypto` parameters are the DOM type) and for our keys. */
export const crypto = webcrypto;
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(crypto);

export { x509 };
