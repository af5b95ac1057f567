/**
 * The console's connection to the world, all from the browser: the chain over JSON-RPC
 * (ethers, PartProof's typed bindings from protocol/contract.ts), the gateways over HTTP
 * (protocol/client.ts's GatewayClient, the CLI's client), the verification keys the console
 * ships, and the signer of the role in use: an injected EIP-1193 wallet, or on a local
 * development chain one of the demo's DEVELOPMENT accounts.
 */
import {
  BrowserProvider,
  JsonRpcProvider,
  Network,
  Wallet,
  type Eip1193Provider,
  type Signer,
} from "ethers";
import type { readChainLog } from "../../cli/chain-log.js";
import { GatewayClient } from "../../protocol/client.js";
import { PartProofReader } from "../../protocol/contract.js";
import type { Domain } from "../../protocol/typed-data.js";

/** The roles the console serves. */
export type Role = "automaker" | "supplier" | "auditor";

/** A DEVELOPMENT account from the console's config (local development chains only). */
export interface DevAccount {
  label: string;
  role: Role;
  privateKey: string;
}

/** /config.json, written by console/server.ts. */
export interface ConsoleConfig {
  rpcUrl: string;
  deployment: { chainId: number; partProof: string; deploymentBlock: number };
  gateways: { name: string; url: string }[];
  devAccounts: DevAccount[];
}

/** A verification key the console ships, by circuit id. */
export type Vkeys = Record<string, { name: string; vkey: Record<string, unknown> }>;

/** A gateway with its display name. */
export interface Gateway {
  name: string;
  client: GatewayClient;
}

/** Everything a view needs. */
export interface Ctx {
  config: ConsoleConfig;
  provider: JsonRpcProvider;
  reader: PartProofReader;
  domain: Domain;
  gateways: Gateway[];
  vkeys: Vkeys;
  /** The session shape the CLI's pure log reader takes (cli/chain-log.ts). */
  logSession: Parameters<typeof readChainLog>[0];
  /** The signer chosen for a role, if any. */
  signer(role: Role): Signer | undefined;
  /** The label of the account chosen for a role (DEVELOPMENT accounts say so). */
  accountLabel(role: Role): string | undefined;
}

declare global {
  interface Window {
    ethereum?: Eip1193Provider;
  }
}

const CHOICE_KEY = (role: Role) => `partproof.console.account.${role}`;

/** Loads the config and keys and connects to the chain and the gateways. */
export async function connect(): Promise<Ctx> {
  const [config, vkeys] = await Promise.all([
    fetch("/config.json").then((r) => r.json() as Promise<ConsoleConfig>),
    fetch("/vkeys.json").then((r) => r.json() as Promise<Vkeys>),
  ]);
  const network = Network.from(config.deployment.chainId);
  const provider = new JsonRpcProvider(config.rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: 500,
  });
  const reader = new PartProofReader(provider, config.deployment.partProof);
  const domain: Domain = {
    chainId: BigInt(config.deployment.chainId),
    partProof: config.deployment.partProof,
  };
  const gateways = config.gateways.map((g) => ({
    name: g.name,
    client: new GatewayClient(g.url, domain),
  }));
  const wallets = config.devAccounts.map((a) => new Wallet(a.privateKey, provider));
  const injected: Partial<Record<Role, Signer>> = {};
  const ctx: Ctx = {
    config,
    provider,
    reader,
    domain,
    gateways,
    vkeys,
    logSession: {
      provider,
      partProof: reader.contract,
      reader,
      deployment: { ...config.deployment, verifiers: {} },
    },
    signer(role) {
      const choice = sessionStorage.getItem(CHOICE_KEY(role));
      if (choice === "wallet") return injected[role];
      const i =
        choice === null ? config.devAccounts.findIndex((a) => a.role === role) : Number(choice);
      return wallets[i];
    },
    accountLabel(role) {
      const choice = sessionStorage.getItem(CHOICE_KEY(role));
      if (choice === "wallet") return injected[role] ? "injected wallet" : undefined;
      const i =
        choice === null ? config.devAccounts.findIndex((a) => a.role === role) : Number(choice);
      const a = config.devAccounts[i];
      return a ? `DEVELOPMENT · ${a.label}` : undefined;
    },
  };
  let watching = false;
  connectWalletOf.set(ctx, async (role: Role, onChange: (why: string) => void) => {
    if (!window.ethereum) throw new Error("no injected wallet (EIP-1193) in this browser");
    const eth = window.ethereum as Eip1193Provider & {
      on?(event: string, listener: (...args: unknown[]) => void): void;
    };
    if (!watching && typeof eth.on === "function") {
      // a wallet that switches account or chain no longer signs as connected: forget it, so
      // that nothing is signed for a chain or an account the user did not connect
      watching = true;
      const drop = (why: string) => () => {
        for (const r of Object.keys(injected) as Role[]) {
          delete injected[r];
          if (sessionStorage.getItem(CHOICE_KEY(r)) === "wallet") {
            sessionStorage.removeItem(CHOICE_KEY(r));
          }
        }
        onChange(why);
      };
      eth.on("accountsChanged", drop("the wallet switched accounts: connect it again"));
      eth.on("chainChanged", drop("the wallet switched chains: connect it again"));
    }
    const bp = new BrowserProvider(window.ethereum);
    const net = await bp.getNetwork();
    if (net.chainId !== BigInt(config.deployment.chainId)) {
      throw new Error(
        `the wallet is on chain ${net.chainId}; switch it to chain ${config.deployment.chainId}`,
      );
    }
    injected[role] = await bp.getSigner();
    sessionStorage.setItem(CHOICE_KEY(role), "wallet");
  });
  return ctx;
}

const connectWalletOf = new WeakMap<
  Ctx,
  (role: Role, onChange: (why: string) => void) => Promise<void>
>();

/**
 * Connects the injected wallet for a role (MetaMask and the like). When the wallet later
 * switches account or chain, the console forgets it and calls `onChange` with why.
 */
export function connectWallet(
  ctx: Ctx,
  role: Role,
  onChange: (why: string) => void = () => {},
): Promise<void> {
  return connectWalletOf.get(ctx)!(role, onChange);
}

/** Chooses a DEVELOPMENT account (its index in the config) for a role. */
export function chooseDevAccount(role: Role, index: number): void {
  sessionStorage.setItem(CHOICE_KEY(role), String(index));
}

/** The signer of a role, or an error telling the user to choose one. */
export function requireSigner(ctx: Ctx, role: Role): Signer {
  const s = ctx.signer(role);
  if (!s) throw new Error(`choose a ${role} account first (header) or connect a wallet`);
  return s;
}
