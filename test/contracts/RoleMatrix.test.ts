import { expect } from "chai";
import { network } from "hardhat";
import { circuitId } from "../../circuits/lib/signals.js";
import { deployPartProof, ENDPOINT, META, PARAMS, policyTuple, ROOT, SCHEMA } from "./helpers.js";

const { ethers, networkHelpers } = await network.create();

const CIRCUIT = circuitId("range_d4");

/**
 * Roles: `admin` holds only DEFAULT_ADMIN_ROLE, `circuitAdmin` only CIRCUIT_ADMIN_ROLE,
 * `pauser` only PAUSER_ROLE; `owner` owns asset 1 (grant 1 active, grant 2 requested);
 * `consumer` holds grant 1; `stranger` holds nothing.
 */
async function fixture() {
  const [admin, circuitAdmin, pauser, owner, consumer, stranger] = await ethers.getSigners();
  const pp = await deployPartProof(ethers, admin!.address);
  const CIRCUIT_ADMIN_ROLE = await pp.CIRCUIT_ADMIN_ROLE();
  const PAUSER_ROLE = await pp.PAUSER_ROLE();
  await pp.connect(admin).grantRole(CIRCUIT_ADMIN_ROLE, circuitAdmin!.address);
  await pp.connect(admin).grantRole(PAUSER_ROLE, pauser!.address);
  await pp.connect(admin).renounceRole(CIRCUIT_ADMIN_ROLE, admin!.address);
  await pp.connect(admin).renounceRole(PAUSER_ROLE, admin!.address);
  const verifier = await ethers.deployContract("TestVerifier");
  await pp.connect(circuitAdmin).registerCircuit(CIRCUIT, await verifier.getAddress());
  await pp.connect(owner).registerAsset(SCHEMA, META, ENDPOINT);
  await pp.connect(owner).publishVersion(1n, ROOT, 4n, 2, PARAMS);
  const now = BigInt(await networkHelpers.time.latest());
  await pp.connect(owner).grantAccess(1n, consumer!.address, policyTuple(), now, now + 86400n, 5);
  await pp.connect(consumer).requestGrant(1n, policyTuple(), now, now + 86400n, 5);
  return {
    pp,
    verifierAddress: await verifier.getAddress(),
    now,
    roles: { CIRCUIT_ADMIN_ROLE, PAUSER_ROLE, DEFAULT_ADMIN_ROLE: await pp.DEFAULT_ADMIN_ROLE() },
    accounts: {
      admin: admin!,
      circuitAdmin: circuitAdmin!,
      pauser: pauser!,
      owner: owner!,
      consumer: consumer!,
      stranger: stranger!,
    },
  };
}

type F = Awaited<ReturnType<typeof fixture>>;
type Account = keyof F["accounts"];
type Call = (f: F, pp: F["pp"]) => Promise<unknown>;

interface Row {
  fn: string;
  call: Call;
  allowed: Account[];
  /** The custom error an unauthorised caller gets. */
  error: "AccessControlUnauthorizedAccount" | "UnauthorizedAssetOwner";
  /** The role the error names (role-gated functions only). */
  role?: (f: F) => string;
}

const ownerOnly = (fn: string, call: Call): Row => ({
  fn,
  call,
  allowed: ["owner"],
  error: "UnauthorizedAssetOwner",
});

const ROWS: Row[] = [
  {
    fn: "registerCircuit",
    call: (f, pp) => pp.registerCircuit(circuitId("other"), f.verifierAddress),
    allowed: ["circuitAdmin"],
    error: "AccessControlUnauthorizedAccount",
    role: (f) => f.roles.CIRCUIT_ADMIN_ROLE,
  },
  {
    fn: "retireCircuit",
    call: (_f, pp) => pp.retireCircuit(CIRCUIT),
    allowed: ["circuitAdmin"],
    error: "AccessControlUnauthorizedAccount",
    role: (f) => f.roles.CIRCUIT_ADMIN_ROLE,
  },
  {
    fn: "pause",
    call: (_f, pp) => pp.pause(),
    allowed: ["pauser"],
    error: "AccessControlUnauthorizedAccount",
    role: (f) => f.roles.PAUSER_ROLE,
  },
  {
    fn: "grantRole",
    call: (f, pp) => pp.grantRole(f.roles.PAUSER_ROLE, f.accounts.stranger.address),
    allowed: ["admin"],
    error: "AccessControlUnauthorizedAccount",
    role: (f) => f.roles.DEFAULT_ADMIN_ROLE,
  },
  {
    fn: "revokeRole",
    call: (f, pp) => pp.revokeRole(f.roles.PAUSER_ROLE, f.accounts.pauser.address),
    allowed: ["admin"],
    error: "AccessControlUnauthorizedAccount",
    role: (f) => f.roles.DEFAULT_ADMIN_ROLE,
  },
  ownerOnly("updateEndpoint", (_f, pp) => pp.updateEndpoint(1n, "https://x")),
  ownerOnly("updateMetadata", (_f, pp) => pp.updateMetadata(1n, PARAMS)),
  ownerOnly("transferAssetOwnership", (f, pp) =>
    pp.transferAssetOwnership(1n, f.accounts.stranger.address),
  ),
  ownerOnly("retireAsset", (_f, pp) => pp.retireAsset(1n)),
  ownerOnly("publishVersion", (_f, pp) => pp.publishVersion(1n, ROOT + 1n, 4n, 2, PARAMS)),
  ownerOnly("grantAccess", (f, pp) =>
    pp.grantAccess(1n, f.accounts.consumer.address, policyTuple(), f.now, f.now + 10n, 1),
  ),
  ownerOnly("approveGrant", (_f, pp) => pp.approveGrant(2n)),
  ownerOnly("rejectGrant", (_f, pp) => pp.rejectGrant(2n)),
  ownerOnly("revokeGrant", (_f, pp) => pp.revokeGrant(1n)),
  ownerOnly("updateQuota", (_f, pp) => pp.updateQuota(1n, 9)),
  ownerOnly("updateExpiry", (f, pp) => pp.updateExpiry(1n, f.now + 99n)),
];

const ACCOUNTS: Account[] = ["admin", "circuitAdmin", "pauser", "owner", "consumer", "stranger"];

describe("PartProof role matrix", function () {
  for (const row of ROWS) {
    describe(row.fn, function () {
      for (const who of ACCOUNTS.filter((a) => !row.allowed.includes(a))) {
        it(`reverts when called by ${who}`, async function () {
          const f = await networkHelpers.loadFixture(fixture);
          const signer = f.accounts[who];
          const call = row.call(f, f.pp.connect(signer));
          if (row.error === "AccessControlUnauthorizedAccount") {
            await expect(call)
              .to.be.revertedWithCustomError(f.pp, row.error)
              .withArgs(signer.address, row.role!(f));
          } else {
            await expect(call)
              .to.be.revertedWithCustomError(f.pp, row.error)
              .withArgs(1n, signer.address);
          }
        });
      }
      for (const who of row.allowed) {
        it(`succeeds when called by ${who}`, async function () {
          const f = await networkHelpers.loadFixture(fixture);
          const tx = (await row.call(f, f.pp.connect(f.accounts[who]))) as {
            wait(): Promise<{ status: number | null } | null>;
          };
          expect((await tx.wait())!.status).to.equal(1);
        });
      }
    });
  }

  describe("unpause", function () {
    for (const who of ACCOUNTS.filter((a) => a !== "pauser")) {
      it(`reverts when called by ${who}`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        await f.pp.connect(f.accounts.pauser).pause();
        const signer = f.accounts[who];
        await expect(f.pp.connect(signer).unpause())
          .to.be.revertedWithCustomError(f.pp, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, f.roles.PAUSER_ROLE);
      });
    }

    it("lifts the pause when called by pauser", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await f.pp.connect(f.accounts.pauser).pause();
      expect(await f.pp.paused()).to.equal(true);
      await expect(f.pp.connect(f.accounts.pauser).unpause())
        .to.emit(f.pp, "Unpaused")
        .withArgs(f.accounts.pauser.address);
      expect(await f.pp.paused()).to.equal(false);
    });
  });

  describe("renounceRole", function () {
    it("reverts when an account renounces for another", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(
        f.pp
          .connect(f.accounts.stranger)
          .renounceRole(f.roles.PAUSER_ROLE, f.accounts.pauser.address),
      ).to.be.revertedWithCustomError(f.pp, "AccessControlBadConfirmation");
    });
  });

  describe("while paused", function () {
    const PAUSED: [string, Call][] = [
      ["registerAsset", (_f, pp) => pp.registerAsset(SCHEMA, META, ENDPOINT)],
      ["updateEndpoint", (_f, pp) => pp.updateEndpoint(1n, "x")],
      ["updateMetadata", (_f, pp) => pp.updateMetadata(1n, PARAMS)],
      [
        "transferAssetOwnership",
        (f, pp) => pp.transferAssetOwnership(1n, f.accounts.stranger.address),
      ],
      ["publishVersion", (_f, pp) => pp.publishVersion(1n, ROOT, 4n, 2, PARAMS)],
      [
        "grantAccess",
        (f, pp) =>
          pp.grantAccess(1n, f.accounts.consumer.address, policyTuple(), f.now, f.now + 9n, 1),
      ],
      ["requestGrant", (f, pp) => pp.requestGrant(1n, policyTuple(), f.now, f.now + 9n, 1)],
      ["approveGrant", (_f, pp) => pp.approveGrant(2n)],
      ["rejectGrant", (_f, pp) => pp.rejectGrant(2n)],
      ["updateQuota", (_f, pp) => pp.updateQuota(1n, 9)],
      ["updateExpiry", (f, pp) => pp.updateExpiry(1n, f.now + 99n)],
      ["pause", (_f, pp) => pp.pause()],
    ];
    for (const [fn, call] of PAUSED) {
      it(`${fn} reverts with EnforcedPause`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        await expect(f.pp.connect(f.accounts.pauser).pause())
          .to.emit(f.pp, "Paused")
          .withArgs(f.accounts.pauser.address);
        const signer = fn === "pause" ? f.accounts.pauser : f.accounts.owner;
        await expect(call(f, f.pp.connect(signer))).to.be.revertedWithCustomError(
          f.pp,
          "EnforcedPause",
        );
      });
    }

    it("unpause reverts with ExpectedPause when not paused", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(f.pp.connect(f.accounts.pauser).unpause()).to.be.revertedWithCustomError(
        f.pp,
        "ExpectedPause",
      );
    });
  });

  describe("constructor", function () {
    it("gives the admin every role", async function () {
      const [a] = await ethers.getSigners();
      const pp = await deployPartProof(ethers, a!.address);
      for (const role of [
        await pp.DEFAULT_ADMIN_ROLE(),
        await pp.CIRCUIT_ADMIN_ROLE(),
        await pp.PAUSER_ROLE(),
        await pp.AUDIT_ADMIN_ROLE(),
      ]) {
        expect(await pp.hasRole(role, a!.address)).to.equal(true);
      }
    });

    it("makes DEFAULT_ADMIN_ROLE the admin of every role", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      for (const role of Object.values(f.roles)) {
        expect(await f.pp.getRoleAdmin(role)).to.equal(f.roles.DEFAULT_ADMIN_ROLE);
      }
    });

    it("supports the ERC-165 and IAccessControl interface ids only", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.pp.supportsInterface("0x01ffc9a7")).to.equal(true); // ERC-165
      expect(await f.pp.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await f.pp.supportsInterface("0xffffffff")).to.equal(false);
    });

    it("reverts when the admin is the zero address", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(deployPartProof(ethers, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(f.pp, "InvalidAdmin")
        .withArgs(ethers.ZeroAddress);
    });
  });
});
