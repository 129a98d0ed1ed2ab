import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  avroAssetDir,
  SchemaStore,
  type AvroSchemaJson,
} from "./schema-store.js";

const dir = avroAssetDir("schemas");
const files = readdirSync(dir).filter((f) => f.endsWith(".avsc"));

const seed003Events = [
  "UserCheckoutAccepted",
  "OrderStarted",
  "ProductPriceChanged",
  "OrderStockConfirmed",
  "OrderStockRejected",
  "OrderStatusChangedToAwaitingValidation",
  "OrderStatusChangedToPaid",
  "OrderStatusChangedToCancelled",
  "OrderStatusChangedToShipped",
  "OrderStatusChangedToSubmitted",
  "OrderStatusChangedToStockConfirmed",
  "OrderPaymentFailed",
  "OrderPaymentSucceeded",
  "GracePeriodConfirmed",
].map((e) => `dev.sluice.eshop.${e}IntegrationEvent`);

describe("avro/schemas", () => {
  const store = SchemaStore.load(dir);

  it("loads every .avsc, resolving named types referenced across files", () => {
    expect(store.names().length).toBeGreaterThanOrEqual(files.length);
    expect(store.type("dev.sluice.reviews.EnrichedReview").name).toBe(
      "dev.sluice.reviews.EnrichedReview",
    );
  });

  it.each(files)(
    "%s parses, sits in dev.sluice.<domain> and is named after its file",
    (file) => {
      const json = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
        name: string;
        namespace: string;
        doc?: string;
      };
      expect(`${json.name}.avsc`).toBe(file);
      expect(json.namespace).toMatch(/^dev\.sluice\.[a-z]+$/);
      expect(json.doc).toBeTruthy();
      expect(store.fileOf(`${json.namespace}.${json.name}`)).toBe(file);
    },
  );

  it("has a schema for every integration event seeds/003 lists", () => {
    for (const name of seed003Events) expect(store.type(name).name).toBe(name);
  });

  it("finds a type by its short name when unambiguous", () => {
    expect(store.type("Review").name).toBe("dev.sluice.reviews.Review");
  });

  it("names a missing type clearly", () => {
    expect(() => store.type("Nope")).toThrow(/no schema named Nope/);
  });

  it("indexes each current type by its fingerprint", () => {
    const review = store.type("dev.sluice.reviews.Review");
    expect([...store.names()].includes("dev.sluice.reviews.Review")).toBe(true);
    const other = store.register(
      JSON.parse(
        readFileSync(join(dir, "Review.avsc"), "utf8"),
      ) as AvroSchemaJson,
    );
    expect(other).toBe(review);
  });
});
