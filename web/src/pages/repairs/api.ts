/** Repairs calls of the repair screens, typed by the public OpenAPI (paths /api/v1/repairs…). */
import { api, unwrap } from "../../api/client";
import type { components, paths } from "../../api/schema";

export type Repair = components["schemas"]["RepairOut"];
export type RepairRow = components["schemas"]["RepairRowOut"];
export type Custody = components["schemas"]["CustodyEntryOut"];
export type RegistrationBody = components["schemas"]["RegistrationIn"];
export type RepairStatus = Repair["status"];
export type ListQuery = NonNullable<paths["/api/v1/repairs"]["get"]["parameters"]["query"]>;

/** The statuses a customer follows, in the order a repair goes through them. */
export const STATUSES: RepairStatus[] = [
  "registered",
  "received",
  "diagnosing",
  "quoted",
  "approved",
  "rejected",
  "repairing",
  "ready",
  "returned",
  "cancelled",
];
/** RegistrationIn.serial's pattern. */
export const SERIAL = /^[A-Za-z0-9 ._/-]+$/;

const path = (repair_id: string) => ({ path: { repair_id } });

export const repairsApi = {
  list: (query: ListQuery) => unwrap(api.GET("/api/v1/repairs", { params: { query } })),
  get: (id: string) => unwrap(api.GET("/api/v1/repairs/{repair_id}", { params: path(id) })),
  branches: () => unwrap(api.GET("/api/v1/repairs/branches")),
  register: (body: RegistrationBody, key: string) =>
    unwrap(api.POST("/api/v1/repairs", { body, params: { header: { "Idempotency-Key": key } } })),
  approve: (id: string, key: string) =>
    unwrap(
      api.POST("/api/v1/repairs/{repair_id}/approve", {
        body: { reason: "" },
        params: { ...path(id), header: { "Idempotency-Key": key } },
      }),
    ),
  reject: (id: string, reason: string, key: string) =>
    unwrap(
      api.POST("/api/v1/repairs/{repair_id}/reject", {
        body: { reason },
        params: { ...path(id), header: { "Idempotency-Key": key } },
      }),
    ),
  /** The printable label (an SVG with the QR code, number, model and serial). */
  label: (id: string) =>
    api.GET("/api/v1/repairs/{repair_id}/label", { params: path(id), parseAs: "blob" }),
};
