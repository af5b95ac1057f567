/**
 * Where a CLI user's signing key comes from: an environment variable holding a hex private key,
 * or an encrypted JSON keystore file (Web3 Secret Storage, as geth, ethers and Hardhat's
 * `--keystore`-less wallets write it) whose password is in an environment variable.
 */
import { readFile } from "node:fs/promises";
import { Wallet, type Provider } from "ethers";

/** How to find a signing key. */
export interface KeySource {
  /** Name of an environment variable holding a 0x-prefixed 32-byte private key. */
  keyEnv?: string;
  /** Path of an encrypted JSON keystore file. */
  keystore?: string;
  /** Name of the environment variable holding the keystore's password. */
  passwordEnv?: string;
}

/** A key source could not give a key; the message says which and what to do. */
export class KeyError extends Error {
  override name = "KeyError";
}

/** Loads the signing wallet named by a key source, connected to a provider when given. */
export async function loadWallet(src: KeySource, provider?: Provider): Promise<Wallet> {
  if (src.keystore) {
    const passwordEnv = src.passwordEnv ?? "PARTPROOF_KEYSTORE_PASSWORD";
    const password = process.env[passwordEnv];
    if (password === undefined) {
      throw new KeyError(`keystore ${src.keystore}: set its password in $${passwordEnv}`);
    }
    let json: string;
    try {
      json = await readFile(src.keystore, "utf8");
    } catch {
      throw new KeyError(`keystore ${src.keystore}: file cannot be read`);
    }
    try {
      const w = await Wallet.fromEncryptedJson(json, password);
      return new Wallet(w.privateKey, provider);
    } catch {
      throw new KeyError(`keystore ${src.keystore}: wrong password or not a keystore file`);
    }
  }
  const env = src.keyEnv ?? "PARTPROOF_KEY";
  const hex = process.env[env];
  if (!hex)
    throw new KeyError(`no signing key: set $${env} to a private key, or pass --keystore FILE`);
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex.trim())) {
    throw new KeyError(`$${env} is not a 0x-prefixed 32-byte hex private key`);
  }
  return new Wallet(hex.trim(), provider);
}
