/** The repair workbench's calls, over the public schema's types. */
import { api, unwrap } from "../../../api/client";
import type { components, operations } from "../../../api/schema";

export type RepairRow = components["schemas"]["RepairRowOut"];
export type Repair = components["schemas"]["RepairOut"];
export type RepairStatus = Repair["status"];
export type Custody = components["schemas"]["CustodyEntryOut"];
export type QuoteBody = components["schemas"]["QuoteIn"];
export type ReturnBody = components["schemas"]["ReturnIn"];
export type RepairQuery = NonNullable<operations["repairs_V1RepairsListRepairs"]["parameters"]["query"]>;

/** The workflow's steps in their order (for the filter and the dashboard's chart). */
export const STEPS: RepairStatus[] = [
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

const at = (repair_id: string) => ({ params: { path: { repair_id } } });

export const repairsApi = {
  list: (query: RepairQuery) => unwrap(api.GET("/api/v1/repairs", { params: { query } })),
  branches: () => unwrap(api.GET("/api/v1/repairs/branches")),
  get: (id: string) => unwrap(api.GET("/api/v1/repairs/{repair_id}", at(id))),
  receive: (id: string, branch_id: string) =>
    unwrap(api.POST("/api/v1/repairs/{repair_id}/receive", { ...at(id), body: { branch_id } })),
  diagnose: (id: string, technician_id: string) =>
    unwrap(api.POST("/api/v1/repairs/{repair_id}/diagnose", { ...at(id), body: { technician_id } })),
  quote: (id: string, body: QuoteBody) => unwrap(api.POST("/api/v1/repairs/{repair_id}/quote", { ...at(id), body })),
  start: (id: string) => unwrap(api.POST("/api/v1/repairs/{repair_id}/start", { ...at(id), body: { reason: "" } })),
  ready: (id: string) => unwrap(api.POST("/api/v1/repairs/{repair_id}/ready", { ...at(id), body: { reason: "" } })),
  giveBack: (id: string, body: ReturnBody) => unwrap(api.POST("/api/v1/repairs/{repair_id}/return", { ...at(id), body })),
  cancel: (id: string, reason: string) =>
    unwrap(api.POST("/api/v1/repairs/{repair_id}/cancel", { ...at(id), body: { reason } })),
};
