// The holder's flow as a phone app does it, through the TypeScript client generated
// from the served spec (openapi-typescript → api.d.ts, called with openapi-fetch): the
// office issues a card, the holder activates it, shows a QR code, looks for offers near
// them, the till redeems one, and the holder sees it among their redemptions. `tsc`
// checks every call against the contract before this runs, so a breaking change to the
// contract breaks the build. Run by scripts/contract/clients.sh against a server it
// seeded (YJ_BASE, YJ_SUPER, YJ_TERMINAL, YJ_OFFER, YJ_NEAR).

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import createClient from "openapi-fetch";

import type { paths } from "./api.js";

function env(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set`);
  return value;
}

const base = env("YJ_BASE");
const api = createClient<paths>({ baseUrl: base });
const as = (token: string) => ({ Authorization: `Bearer ${token}` });

/** An 18-digit national ID with its check digit (GB 11643). */
function idNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * (weights[i] ?? 0), 0);
  return first17 + "10X98765432"[sum % 11];
}

test("a holder activates a card, shows a QR code, finds an offer near them and sees its redemption", async () => {
  const office = as(env("YJ_SUPER"));
  const person = await api.POST("/api/v1/admin/beneficiaries", {
    headers: office,
    body: {
      name: "李卫国",
      id_number: idNumber("44030319900101123"),
      phone: "13912345678",
      category: "veteran",
      region_code: "440303",
    },
  });
  assert.equal(person.response.status, 201, JSON.stringify(person.error));
  assert.ok(person.data);
  const issued = await api.POST("/api/v1/admin/beneficiaries/{id}/cards", {
    headers: office,
    params: { path: { id: person.data.id } },
    body: { product: "general" },
  });
  assert.equal(issued.response.status, 201, JSON.stringify(issued.error));
  assert.ok(issued.data);

  // Activation: a wrong code is a problem the client parses, the right one gives tokens.
  const wrong = await api.POST("/api/v1/holder/activate", {
    body: { card_no: issued.data.card_no, activation_code: "WRONGCODE1" },
  });
  assert.ok(wrong.error, "a wrong activation code was accepted");
  assert.ok(wrong.response.status >= 400 && wrong.response.status < 500);
  assert.equal(typeof wrong.error.code, "string");
  const activated = await api.POST("/api/v1/holder/activate", {
    body: { card_no: issued.data.card_no, activation_code: issued.data.activation_code },
  });
  assert.equal(activated.response.status, 200, JSON.stringify(activated.error));
  assert.ok(activated.data);
  const holder = as(activated.data.access_token);

  const qr = await api.POST("/api/v1/holder/card/qr", { headers: holder });
  assert.equal(qr.response.status, 200, JSON.stringify(qr.error));
  assert.ok(qr.data);
  assert.ok(qr.data.svg.includes("<svg"));

  const [lat, lon] = env("YJ_NEAR").split(",");
  const near = await api.GET("/api/v1/holder/offers", {
    headers: holder,
    params: { query: { near: `${lat},${lon}`, radius_km: 5 } },
  });
  assert.equal(near.response.status, 200, JSON.stringify(near.error));
  assert.ok(near.data);
  const offer = near.data.items.find((o) => o.id === env("YJ_OFFER"));
  assert.ok(offer, "the seeded offer is not near");
  assert.ok(offer.distance_km !== null && offer.distance_km !== undefined && offer.distance_km < 1);
  const etag = near.response.headers.get("etag");
  assert.ok(etag, "no ETag on the holder's offers");
  assert.match(near.response.headers.get("cache-control") ?? "", /^private/);

  const redeemed = await api.POST("/api/v1/pos/redemptions", {
    headers: as(env("YJ_TERMINAL")),
    params: { header: { "Idempotency-Key": randomUUID() } },
    body: { token: qr.data.token, offer_id: offer.id, bill_fen: 12800 },
  });
  assert.equal(redeemed.response.status, 201, JSON.stringify(redeemed.error));
  assert.ok(redeemed.data);
  assert.ok(redeemed.data.discount_fen > 0);

  const history = await api.GET("/api/v1/holder/redemptions", { headers: holder });
  assert.equal(history.response.status, 200, JSON.stringify(history.error));
  assert.ok(history.data);
  assert.deepEqual(
    history.data.items.map((r) => r.id),
    [redeemed.data.id],
  );

  // Without a token the holder's data is refused, as a problem.
  const anonymous = await api.GET("/api/v1/holder/redemptions", {});
  assert.equal(anonymous.response.status, 401);
  assert.equal(anonymous.error?.code, "unauthenticated");
});
