import { describe, expect, it } from "vitest";
import * as schedule from "./index.js";

describe("connectors/schedule index", () => {
  it("exports the calendar, the source, the firing stores and their migration", () => {
    expect(Object.keys(schedule).sort()).toEqual(
      [
        "CronCalendar",
        "ScheduleSource",
        "firingId",
        "memoryFiringStore",
        "migrateScheduleTables",
        "postgresFiringStore",
        "scheduleSource",
      ].sort(),
    );
  });
});
