/**
 * The chain session of a CLI user: the RPC provider, the deployment file, PartProof's typed
 * bindings (protocol/contract.ts) and, when given, the gateway URL. Transactions go through
 * {@link send}, which turns a revert into the contract's custom error via the protocol's one
 * revert decoder.
 */
import { readFile } from "node:fs/promises";
import {
  JsonRpcProvider,
  type ContractTransactionResponse,
  type LogDescription,
  type Provider,
} from "ethers";
import { GatewayClient } from "../protocol/client.js";
import {
  PartProofReader,
  partProofInterface,
  revertReason,
  type PartProof,
} from "../protocol/contract.js";
import type { Domain } from "../protocol/typed-data.js";
import { UserError } from "./errors.js";

/** The deployment file written by scripts/deploy.ts. */
export interface Deployment {
  chainId: number;
  partProof: string;
  deploymentBlock: number;
  verifiers: Record<string, { circuitId: string; contract: string; address: string }>;
}

/** A connection to the chain, the deployment and (optionally) a gateway. */
export interface Session {
  provider: Provider;
  deployment: Deployment;
  /** PartProof's typed bindings, connected to the provider (read-only; `connect(signer)` to send). */
  partProof: PartProof;
  /** The read model of the deployment (assets, versions, grants). */
  reader: PartProofReader;
  /** The gateway's base URL, when one was given; {@link gatewayOf} talks to it. */
  gatewayUrl?: string;
}

/** Opens a session from an RPC URL (or a provider) and a deployment file (or its contents). */
export async function openSession(opts: {
  rpcUrl?: string;
  provider?: Provider;
  deploymentFile?: string;
  deployment?: Deployment;
  gatewayUrl?: string;
}): Promise<Session> {
  // cacheTimeout -1: no 250 ms answer cache, which would hand one key's pending nonce to two
  // transactions sent in quick succession ("nonce has already been used")
  const provider =
    opts.provider ??
    new JsonRpcProvider(opts.rpcUrl ?? "http://127.0.0.1:8545", undefined, { cacheTimeout: -1 });
  const deployment = opts.deployment ?? (await readDeployment(opts.deploymentFile));
  const reader = new PartProofReader(provider, deployment.partProof);
  return {
    provider,
    deployment,
    partProof: reader.contract,
    reader,
    gatewayUrl: opts.gatewayUrl?.replace(/\/+$/, ""),
  };
}

async function readDeployment(file: string | undefined): Promise<Deployment> {
  if (!file)
    throw new UserError("no deployment: pass --deployment FILE (written by scripts/deploy.ts)");
  let d: Partial<Deployment>;
  try {
    d = JSON.parse(await readFile(file, "utf8")) as Partial<Deployment>;
  } catch {
    throw new UserError(`deployment file ${file} cannot be read`);
  }
  if (typeof d.partProof !== "string" || typeof d.chainId !== "number") {
    throw new UserError(`deployment file ${file} names no partProof address and chainId`);
  }
  return d as Deployment;
}

/** The EIP-712 signing domain of the session's deployment. */
export function domainOf(s: Session): Domain {
  return { chainId: BigInt(s.deployment.chainId), partProof: s.deployment.partProof };
}

/** The protocol's client of the session's gateway; a user error when no gateway was given. */
export function gatewayOf(s: Session): GatewayClient {
  if (!s.gatewayUrl) throw new UserError("no gateway: pass --gateway URL");
  return new GatewayClient(s.gatewayUrl, domainOf(s));
}

/** A mined transaction and PartProof's events in it. */
export interface Sent {
  /** Transaction hash. */
  hash: string;
  /** PartProof's events of the transaction, in log order. */
  events: LogDescription[];
}

/**
 * Sends a transaction (`tx` calls a typed method of PartProof connected to a signer) and waits
 * for it; a revert becomes a user error naming the contract's custom error and its arguments.
 */
export async function send(
  s: Session,
  what: string,
  tx: () => Promise<ContractTransactionResponse>,
): Promise<Sent> {
  let response: ContractTransactionResponse;
  try {
    response = await tx();
  } catch (e) {
    throw new UserError(`${what} was refused by the contract: ${revertReason(e)}`);
  }
  const receipt = await response.wait();
  if (!receipt) throw new UserError(`${what}: transaction ${response.hash} was dropped`);
  const events: LogDescription[] = [];
  const ours = s.deployment.partProof.toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== ours) continue; // e.g. a library's log: not ours to read
    const parsed = partProofInterface.parseLog(log);
    if (parsed) events.push(parsed);
  }
  return { hash: receipt.hash, events };
}

/** The first event `name` of a sent transaction; a user error when the contract emitted none. */
export function eventOf(sent: Sent, name: string): LogDescription["args"] {
  const ev = sent.events.find((e) => e.name === name);
  if (!ev) throw new UserError(`transaction ${sent.hash} emitted no ${name} event`);
  return ev.args;
}
