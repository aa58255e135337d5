/** Tickets calls of the support screens, typed by the public OpenAPI (paths /api/v1/tickets…). */
import { api, unwrap } from "../../api/client";
import { fetchWithProgress, type Progress } from "../../api/progress";
import type { components, paths } from "../../api/schema";

export type Ticket = components["schemas"]["TicketOut"];
export type TicketRow = components["schemas"]["TicketRowOut"];
export type Message = components["schemas"]["MessageOut"];
export type Attachment = components["schemas"]["AttachmentOut"];
export type OpenTicketBody = components["schemas"]["OpenTicketIn"];
export type ReplyBody = components["schemas"]["ReplyIn"];
export type FileBody = components["schemas"]["FileIn"];
export type Priority = NonNullable<OpenTicketBody["priority"]>;
export type ListQuery = NonNullable<paths["/api/v1/tickets"]["get"]["parameters"]["query"]>;

export const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];
export const STATUSES = ["open", "in_progress", "waiting_for_customer", "resolved", "closed"] as const;
export type TicketStatus = (typeof STATUSES)[number];

/** The API's limits (services/tickets: five files a message, 10 MB each, images and PDF). */
export const MAX_FILES = 5;
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const FILE_TYPES = "image/png,image/jpeg,image/webp,image/gif,application/pdf";
/** OpenTicketIn.related_code's pattern. */
export const RELATED_CODE = /^[A-Z0-9][A-Z0-9-]{2,40}$/;

const path = (ticket_id: string) => ({ path: { ticket_id } });

export const ticketsApi = {
  list: (query: ListQuery) => unwrap(api.GET("/api/v1/tickets", { params: { query } })),
  get: (id: string) => unwrap(api.GET("/api/v1/tickets/{ticket_id}", { params: path(id) })),
  departments: () => unwrap(api.GET("/api/v1/tickets/departments")),
  /** Opening and replying carry the files inline (base64): the upload is the request itself. */
  open: (body: OpenTicketBody, key: string, onProgress: Progress) =>
    unwrap(
      api.POST("/api/v1/tickets", {
        body,
        params: { header: { "Idempotency-Key": key } },
        fetch: fetchWithProgress(onProgress),
      }),
    ),
  reply: (id: string, body: ReplyBody, key: string, onProgress: Progress) =>
    unwrap(
      api.POST("/api/v1/tickets/{ticket_id}/replies", {
        body,
        params: { ...path(id), header: { "Idempotency-Key": key } },
        fetch: fetchWithProgress(onProgress),
      }),
    ),
  rate: (id: string, rating: number, comment: string) =>
    unwrap(api.POST("/api/v1/tickets/{ticket_id}/rating", { body: { rating, comment }, params: path(id) })),
  attachment: (id: string, file_id: string) =>
    api.GET("/api/v1/tickets/{ticket_id}/attachments/{file_id}", {
      params: { path: { ticket_id: id, file_id } },
      parseAs: "blob",
    }),
};
