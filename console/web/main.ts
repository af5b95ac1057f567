/**
 * The console's entry: connects (context.ts), shows the account picker of the role in view and
 * routes #/automaker, #/supplier and #/auditor to their views.
 */
import { auditorView } from "./auditor.js";
import { automakerView } from "./automaker.js";
import { chooseDevAccount, connect, connectWallet, type Ctx, type Role } from "./context.js";
import { errorText, h, replace } from "./dom.js";
import { supplierView } from "./supplier.js";

const ROLES: Role[] = ["automaker", "supplier", "auditor"];

function roleOfHash(): Role {
  const r = location.hash.replace(/^#\/?/, "");
  return (ROLES as string[]).includes(r) ? (r as Role) : "automaker";
}

/** Why the injected wallet was let go (it switched account or chain), shown once. */
let walletNotice = "";

/** The header's account picker for a role: DEVELOPMENT accounts (dev chains) and the wallet. */
function accountPicker(ctx: Ctx, role: Role, rerender: () => void): HTMLElement {
  const box = h("div", { class: "picker" });
  const dev = ctx.config.devAccounts.map((a, i) => ({ a, i })).filter(({ a }) => a.role === role);
  if (dev.length > 0) {
    const current = ctx.accountLabel(role);
    const sel = h(
      "select",
      { id: "account-select", "aria-label": `${role} account` },
      ...dev.map(({ a, i }) =>
        h(
          "option",
          { value: String(i), selected: current === `DEVELOPMENT · ${a.label}` },
          `DEVELOPMENT · ${a.label}`,
        ),
      ),
    );
    sel.addEventListener("change", () => {
      chooseDevAccount(role, Number(sel.value));
      rerender();
    });
    box.append(
      h(
        "span",
        { class: "dev", title: "Hardhat's public test keys: for a local development chain only" },
        "DEVELOPMENT KEYS",
      ),
      sel,
    );
  }
  if (window.ethereum) {
    const error = h("span", { class: "error", role: "alert" }, walletNotice);
    walletNotice = "";
    const changed = (why: string) => {
      walletNotice = why;
      rerender();
    };
    box.append(
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () =>
            connectWallet(ctx, role, changed).then(
              rerender,
              (e) => (error.textContent = errorText(e)),
            ),
        },
        "Connect wallet",
      ),
      error,
    );
  } else if (dev.length === 0) {
    box.append(
      h("span", { class: "muted" }, "No wallet found: install an EIP-1193 wallet to sign."),
    );
  }
  const label = ctx.accountLabel(role);
  const signer = ctx.signer(role);
  if (label && signer) {
    const addr = h("span", { class: "mono", id: "account-address" }, "");
    void signer.getAddress().then((a) => (addr.textContent = a));
    box.append(addr);
  }
  return box;
}

async function start(): Promise<void> {
  const main = document.getElementById("main")!;
  const account = document.getElementById("account")!;
  const footer = document.getElementById("footer")!;
  let ctx: Ctx;
  try {
    ctx = await connect();
  } catch (e) {
    replace(main, h("p", { class: "error" }, `The console cannot start: ${errorText(e)}`));
    return;
  }
  replace(
    footer,
    `chain ${ctx.config.deployment.chainId} at ${ctx.config.rpcUrl} · PartProof ${ctx.config.deployment.partProof} · gateways: ${ctx.config.gateways.map((g) => `${g.name} ${g.url}`).join(", ")}`,
  );
  let generation = 0;
  const render = () => {
    const role = roleOfHash();
    const mine = ++generation;
    for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
      if (a.dataset.role === role) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    document.body.setAttribute("data-role", role);
    document.title = `PartProof console · ${role}`;
    replace(account, accountPicker(ctx, role, render));
    replace(main, h("p", { class: "muted" }, "Loading …"));
    main.setAttribute("aria-busy", "true");
    const view =
      role === "automaker"
        ? automakerView(ctx, main)
        : role === "supplier"
          ? supplierView(ctx, main, render)
          : auditorView(ctx, main);
    view
      .catch((e) => {
        if (mine === generation)
          main.append(h("p", { class: "error", role: "alert" }, errorText(e)));
      })
      .finally(() => {
        if (mine === generation) main.setAttribute("aria-busy", "false");
      });
  };
  window.addEventListener("hashchange", () => {
    render();
    document.getElementById("main")?.focus();
  });
  render();
}

void start();
