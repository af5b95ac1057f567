import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { GatewayClient, GatewayError } from "../../protocol/client.js";

/**
 * A connection the gateway drops under a request (a kept-alive socket whose idle timer fired as
 * the client reused it; a gateway killed mid-request): a GET is asked once more, a POST is not
 * (the gateway may have acted on it), and the error says what happened instead of only
 * "not reachable".
 */
describe("GatewayClient when the gateway drops the connection under a request", function () {
  let server: Server;
  let url: string;
  const seen: Record<string, number> = {};
  /** routes whose first N requests have their socket destroyed before any answer */
  const drops: Record<string, number> = { "/flaky": 1, "/post": 1, "/gone": 99 };

  before(async function () {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const route = req.url ?? "";
      seen[route] = (seen[route] ?? 0) + 1;
      if ((drops[route] ?? 0) >= seen[route]!) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const ok = z.object({ ok: z.boolean() });
  const client = () => new GatewayClient(url, { chainId: 1n } as never);

  it("asks a GET once more and returns the second answer", async function () {
    expect(await client().request(ok, "GET", "/flaky")).to.deep.equal({ ok: true });
    expect(seen["/flaky"]).to.equal(2);
  });

  it("does not send a POST twice, and names the cause", async function () {
    const err = await client()
      .request(ok, "POST", "/post", {})
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err).to.be.instanceOf(GatewayError);
    expect(err!.message).to.match(/not reachable \((UND_ERR_SOCKET|ECONNRESET|EPIPE)/);
    expect(seen["/post"]).to.equal(1);
  });

  it("gives up on a GET after the second drop", async function () {
    const err = await client()
      .request(ok, "GET", "/gone")
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err).to.be.instanceOf(GatewayError);
    expect(err!.message).to.include("not reachable (");
    expect(seen["/gone"]).to.equal(2);
  });
});
