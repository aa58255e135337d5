/** Ticket calls of the staff queue, over the public schema's own types. */
import { api, unwrap } from "../../../api/client";
import type { components, operations } from "../../../api/schema";

export type TicketRow = components["schemas"]["TicketRowOut"];
export type Ticket = components["schemas"]["TicketOut"];
export type Message = components["schemas"]["MessageOut"];
export type ReplyBody = components["schemas"]["ReplyIn"];
export type TicketStatus = components["schemas"]["StatusIn"]["status"];
export type Priority = components["schemas"]["PriorityIn"]["priority"];
export type TicketQuery = NonNullable<operations["tickets_V1TicketsListTickets"]["parameters"]["query"]>;

export const STATUSES: TicketStatus[] = ["open", "in_progress", "waiting_for_customer", "resolved", "closed"];
export const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];

const at = (ticket_id: string) => ({ params: { path: { ticket_id } } });

export const ticketsApi = {
  list: (query: TicketQuery) => unwrap(api.GET("/api/v1/tickets", { params: { query } })),
  departments: () => unwrap(api.GET("/api/v1/tickets/departments")),
  get: (id: string) => unwrap(api.GET("/api/v1/tickets/{ticket_id}", at(id))),
  /** Staff see internal notes here too (the ticket's own messages leave them out). */
  replies: (id: string) => unwrap(api.GET("/api/v1/tickets/{ticket_id}/replies", at(id))),
  reply: (id: string, body: ReplyBody) => unwrap(api.POST("/api/v1/tickets/{ticket_id}/replies", { ...at(id), body })),
  assign: (id: string, department: string, agent_id: string | null) =>
    unwrap(api.POST("/api/v1/tickets/{ticket_id}/assignment", { ...at(id), body: { department, agent_id } })),
  status: (id: string, status: TicketStatus) =>
    unwrap(api.POST("/api/v1/tickets/{ticket_id}/status", { ...at(id), body: { status } })),
  priority: (id: string, priority: Priority) =>
    unwrap(api.POST("/api/v1/tickets/{ticket_id}/priority", { ...at(id), body: { priority } })),
  attachment: (id: string, file_id: string) =>
    api.GET("/api/v1/tickets/{ticket_id}/attachments/{file_id}", {
      params: { path: { ticket_id: id, file_id } },
      parseAs: "blob",
    }),
};
