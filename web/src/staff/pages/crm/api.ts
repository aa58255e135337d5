/** CRM calls of the staff side (contacts, customers, care, levels), over the public schema's own types. */
import { api, unwrap } from "../../../api/client";
import type { components, operations } from "../../../api/schema";

export type ContactRow = components["schemas"]["ContactRowOut"];
export type Contact = components["schemas"]["ContactOut"];
export type Loyalty = components["schemas"]["LoyaltyOut"];
export type CareType = components["schemas"]["CareTypeOut"];
export type CareAction = components["schemas"]["CareActionIn"];
export type BulkAssign = components["schemas"]["BulkAssignIn"];
export type Refused = components["schemas"]["RefusedOut"];
export type ContactQuery = NonNullable<operations["crm_V1CrmContactsListContacts"]["parameters"]["query"]>;
export type Group = ContactRow["group"];
export type Kind = ContactRow["kind"];
export type Scope = NonNullable<ContactQuery["scope"]>;
export type Sort = NonNullable<ContactQuery["sort"]>;

export const GROUPS: Group[] = ["new_from_ads", "not_customer", "cold", "warm", "hot"];
export const KINDS: Kind[] = ["contact", "customer"];
export const SCOPES: Scope[] = ["all", "mine", "holding", "my_department", "unassigned_lead"];
/** The orders the list route takes (the API's default: last changed first). */
export const SORTS: Sort[] = ["name", "-name", "updated_at", "-updated_at", "created_at", "-created_at", "group", "-group", "level", "-level"];
export const DEFAULT_SORT: Sort = "-updated_at";
/** Care actions that carry a value (points or money); the others are a note of what was done. */
export const VALUED: CareType["action"][] = ["give_points", "deduct_points", "give_money", "deduct_money"];

const at = (contact_id: string) => ({ params: { path: { contact_id } } });

export const crmApi = {
  list: (query: ContactQuery) => unwrap(api.GET("/api/v1/crm/contacts", { params: { query } })),
  get: (id: string) => unwrap(api.GET("/api/v1/crm/contacts/{contact_id}", at(id))),
  level: (id: string) => unwrap(api.GET("/api/v1/crm/contacts/{contact_id}/level", at(id))),
  labels: () => unwrap(api.GET("/api/v1/crm/labels")),
  /** Whom work can be given to: the active platform staff, and the departments. */
  staff: () => unwrap(api.GET("/api/v1/staff/users")),
  departments: () => unwrap(api.GET("/api/v1/staff/departments")),
  bulkAssign: (body: BulkAssign) => unwrap(api.POST("/api/v1/crm/contacts/bulk/assign", { body })),
  bulkLabel: (ids: string[], label: string) => unwrap(api.POST("/api/v1/crm/contacts/bulk/labels", { body: { ids, add: [label] } })),
  bulkDelete: (ids: string[]) => unwrap(api.POST("/api/v1/crm/contacts/bulk/delete", { body: { ids, confirm: true } })),
  restore: (id: string) => unwrap(api.POST("/api/v1/crm/contacts/{contact_id}/restore", at(id))),
  careTypes: () => unwrap(api.GET("/api/v1/crm/care-types")),
  /** Points and accumulated money move with it: one key per action, kept across a retry. */
  careAction: (id: string, body: CareAction, key: string) =>
    unwrap(
      api.POST("/api/v1/crm/contacts/{contact_id}/care-actions", {
        params: { path: { contact_id: id }, header: { "Idempotency-Key": key } },
        body,
      }),
    ),
};
