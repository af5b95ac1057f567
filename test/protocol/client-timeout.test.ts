import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from "undici";
import { z } from "zod";
import { commitPatiently } from "../../cli/supplier.js";
import { GatewayClient, GatewayError, GatewayTimeout } from "../../protocol/client.js";

/**
 * A gateway that takes longer than the HTTP client waits for an answer (a commit of 10^6 records
 * builds its version for minutes; Node's fetch gives up on response headers after 300 s): the
 * client must say so (the request may still be running) rather than call the gateway
 * unreachable, and the CLI asks an idempotent commit again until it has the answer.
 */
describe("GatewayClient when the gateway answers after the client's header timeout", function () {
  let server: Server;
  let url: string;
  let previous: Dispatcher;
  const held: ServerResponse[] = [];
  let slowRequests = 0;

  before(async function () {
    previous = getGlobalDispatcher();
    // Node's default is 300 s; the same timeout, shortened so that the test runs in a second
    setGlobalDispatcher(new Agent({ headersTimeout: 300 }));
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === "/slow") {
        slowRequests++;
        held.push(res); // answers nothing while "building"
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    setGlobalDispatcher(previous);
    for (const r of held) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("throws GatewayTimeout naming the request, not 'not reachable'", async function () {
    const client = new GatewayClient(url, { name: "t", version: "1", chainId: 1n } as never);
    const err = await client.request(z.object({ ok: z.boolean() }), "POST", "/slow", {}).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(GatewayTimeout);
    expect(err!.message).to.include("POST /slow").and.include("may still be working");
    expect(slowRequests).to.equal(1);
    // an answer in time is still an answer
    expect(await client.request(z.object({ ok: z.boolean() }), "GET", "/fast")).to.deep.equal({
      ok: true,
    });
  });

  it("says 'not reachable' when nothing listens", async function () {
    const client = new GatewayClient("http://127.0.0.1:1", { chainId: 1n } as never);
    const err = await client.request(z.object({}), "GET", "/").then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(GatewayError).and.not.be.instanceOf(GatewayTimeout);
    expect(err!.message).to.include("not reachable");
  });

  it("commitPatiently asks a commit again after each timeout and returns its answer", async function () {
    const client = new GatewayClient(url, { chainId: 1n } as never);
    let calls = 0;
    const waits: number[] = [];
    const out = await commitPatiently(
      async () => {
        calls++;
        // the first two commits outlast the timeout; the third finds the version made
        if (calls <= 2) return client.request(z.object({ ok: z.boolean() }), "POST", "/slow", {});
        return client.request(z.object({ ok: z.boolean() }), "GET", "/fast");
      },
      { onWaiting: (n) => waits.push(n) },
    );
    expect(out).to.deep.equal({ ok: true });
    expect(calls).to.equal(3);
    expect(waits).to.deep.equal([1, 2]);
  });

  it("commitPatiently gives up after its attempts and passes other errors through at once", async function () {
    const client = new GatewayClient(url, { chainId: 1n } as never);
    let calls = 0;
    const err = await commitPatiently(
      () => {
        calls++;
        return client.request(z.object({}), "POST", "/slow", {});
      },
      { attempts: 2 },
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(GatewayTimeout);
    expect(calls).to.equal(2);
    let other = 0;
    const refused = await commitPatiently(() => {
      other++;
      return Promise.reject(new GatewayError("gateway x is not reachable"));
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused!.message).to.include("not reachable");
    expect(other).to.equal(1);
  });
});
