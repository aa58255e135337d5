/** Care activities of the CRM (planned, done, cancelled), over the public schema's own types. */
import { api, unwrap } from "../../../api/client";
import type { components, operations } from "../../../api/schema";

export type Activity = components["schemas"]["ActivityRowOut"];
export type ActivityIn = components["schemas"]["ActivityIn"];
export type ActivityQuery = NonNullable<operations["crm_V1CrmCareActivitiesListActivities"]["parameters"]["query"]>;
export type ActivityScope = NonNullable<ActivityQuery["scope"]>;
export type ActivityStatus = Activity["status"];

export const SCOPES: ActivityScope[] = ["all", "mine", "my_department", "today"];
export const STATUSES: ActivityStatus[] = ["planned", "done", "cancelled"];

const at = (activity_id: string, key: string) => ({ params: { path: { activity_id }, header: { "Idempotency-Key": key } } });

export const careApi = {
  list: (query: ActivityQuery) => unwrap(api.GET("/api/v1/crm/care-activities", { params: { query } })),
  schedule: (body: ActivityIn, key: string) =>
    unwrap(api.POST("/api/v1/crm/care-activities", { params: { header: { "Idempotency-Key": key } }, body })),
  /** Done: a points or money action is recorded on the customer then (once, by the activity). */
  complete: (id: string, outcome: string, key: string) =>
    unwrap(api.POST("/api/v1/crm/care-activities/{activity_id}/complete", { ...at(id, key), body: { outcome } })),
  cancel: (id: string, reason: string, key: string) =>
    unwrap(api.POST("/api/v1/crm/care-activities/{activity_id}/cancel", { ...at(id, key), body: { reason } })),
};
