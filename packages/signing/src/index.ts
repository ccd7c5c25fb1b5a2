export { ephemeralSigner, RepomdSigner } from "./repomd-signer.js";
export {
  GENERATED_KEY_FILE,
  type LoadedSigningKey,
  loadSigningKey,
  type SigningKeyOptions,
} from "./signing-key.js";
