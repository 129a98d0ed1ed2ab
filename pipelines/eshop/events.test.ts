import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { avroAssetDir, SchemaStore } from "../../avro/index.js";
import { MemoryLog } from "../../connectors/memory/index.js";
import { memoryBus } from "./bus.js";
import {
  decodeEvent,
  encodeEvent,
  eventId,
  EVENT_TYPE_HEADER,
  fromCents,
  toCents,
  TOPIC_EVENTS,
  topicOf,
} from "./events.js";
import { publishRecord } from "./plumbing.js";

const dir = join(avroAssetDir("schemas"), "eshop");

describe("the e-shop's own Avro schemas (avro/schemas/eshop)", () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith(".avsc")))(
    "%s is one documented dev.sluice.eshop type named after its file",
    (file) => {
      const json = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
        name: string;
        namespace: string;
        doc?: string;
      };
      expect(`${json.name}.avsc`).toBe(file);
      expect(json.namespace).toBe("dev.sluice.eshop");
      expect(json.doc).toBeTruthy();
      expect(
        SchemaStore.load(dir).fileOf(`dev.sluice.eshop.${json.name}`),
      ).toBe(file);
    },
  );
});

describe("integration events on their topics", () => {
  it("puts every one of the seed's 14 events on exactly one topic", () => {
    const events = Object.values(TOPIC_EVENTS).flat();
    expect(new Set(events).size).toBe(events.length);
    expect(events.filter((e) => e.endsWith("IntegrationEvent"))).toHaveLength(
      14,
    );
    expect(topicOf("OrderStatusChangedToStockConfirmedIntegrationEvent")).toBe(
      "stock-confirmed",
    );
    expect(topicOf("GracePeriodConfirmedIntegrationEvent")).toBe(
      "grace-period-confirmed",
    );
  });

  it("round-trips an event through Avro and names a wrong topic or missing header", () => {
    const event = {
      id: eventId(7, "paid"),
      creationDate: new Date(1_700_000_000_000),
      orderId: 7,
      orderStatus: "Paid" as const,
      buyerName: "ann",
      orderStockItems: [{ productId: 1, units: 2 }],
    };
    const bytes = encodeEvent(
      "OrderStatusChangedToPaidIntegrationEvent",
      event,
    );
    const headers = {
      [EVENT_TYPE_HEADER]: "OrderStatusChangedToPaidIntegrationEvent",
    };
    expect(decodeEvent("paid-orders", headers, bytes)).toEqual({
      type: "OrderStatusChangedToPaidIntegrationEvent",
      event,
    });
    expect(() => decodeEvent("orders", headers, bytes)).toThrow(
      /orders: event type OrderStatusChangedToPaidIntegrationEvent does not travel on this topic/,
    );
    expect(() => decodeEvent("paid-orders", {}, bytes)).toThrow(
      /has no eshop.event-type header/,
    );
  });

  it("names the first bad field when an event does not fit its schema", () => {
    expect(() =>
      encodeEvent("OrderStockConfirmedIntegrationEvent", {
        id: eventId(1),
        creationDate: new Date(),
        orderId: "1" as unknown as number,
      }),
    ).toThrow(/orderId/);
  });

  it("keys every event of one order alike, so they share a partition number on every topic", () => {
    const log = new MemoryLog();
    const bus = memoryBus(log, { partitions: 4 });
    void bus.createTopics();
    const now = new Date();
    const partitions = new Set(
      [
        publishRecord(
          bus,
          undefined,
          "OrderStockConfirmedIntegrationEvent",
          { id: eventId(42, "a"), creationDate: now, orderId: 42 },
          "42",
        ),
        publishRecord(
          bus,
          undefined,
          "OrderPaymentSucceededIntegrationEvent",
          { id: eventId(42, "b"), creationDate: now, orderId: 42 },
          "42",
        ),
        publishRecord(
          bus,
          undefined,
          "GracePeriodConfirmedIntegrationEvent",
          { id: eventId(42, "c"), creationDate: now, orderId: 42 },
          "42",
        ),
      ].map(
        (r) =>
          log.append(r.value.topic, {
            key: r.key,
            value: r.value.bytes,
            headers: r.headers,
          }).partition,
      ),
    );
    expect(partitions.size).toBe(1);
  });

  it("gives the same transition the same event id, and another one another", () => {
    expect(eventId(7, "paid")).toBe(eventId(7, "paid"));
    expect(eventId(7, "paid")).not.toBe(eventId(8, "paid"));
    expect(eventId(7, "paid")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("does money in exact cents", () => {
    expect(toCents("19.9")).toBe(1990);
    expect(fromCents(toCents("0.10") + toCents("0.20"))).toBe("0.30");
    expect(() => toCents("1e3")).toThrow(/not a money amount/);
  });
});
