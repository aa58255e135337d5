/** Billing calls of the invoices screen (and of the buy flow on the services screen). */
import { IdempotentAction, api, unwrap } from "../../api/client";
import type { components, paths } from "../../api/schema";

type Schemas = components["schemas"];
/** One invoice as its own read answers it (with claims, and the transfer to make after a provider payment). */
export type Invoice = Schemas["InvoiceOut"];
/** An invoice as the lists answer it. */
export type InvoiceRow = Schemas["InvoiceRowOut"];
export type InvoiceStatus = Invoice["status"];
export type PaymentRequest = NonNullable<Invoice["payment_request"]>;
export type Claim = Schemas["ClaimOut"];
export type PayBody = Schemas["PayIn"];
export type PayMethod = NonNullable<PayBody["method"]>;
export type ClaimBody = Schemas["ClaimIn"];
type ListQuery = paths["/api/v1/invoices"]["get"]["parameters"]["query"];
type ClaimQuery = paths["/api/v1/payment-claims"]["get"]["parameters"]["query"];

export const invoicesApi = {
  list: (query: ListQuery) => unwrap(api.GET("/api/v1/invoices", { params: { query } })),
  get: (id: string) => unwrap(api.GET("/api/v1/invoices/{invoice_id}", { params: { path: { invoice_id: id } } })),
  /** One payment action: its key survives a retry of a lost answer (charged once). */
  pay: (action: IdempotentAction, id: string, body: PayBody) =>
    action.run({ id, ...body }, (key) =>
      unwrap(
        api.POST("/api/v1/invoices/{invoice_id}/pay", {
          body,
          params: { path: { invoice_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  cancel: (id: string) =>
    unwrap(api.POST("/api/v1/invoices/{invoice_id}/cancel", { params: { path: { invoice_id: id } } })),
  claim: (action: IdempotentAction, id: string, body: ClaimBody) =>
    action.run({ id, ...body }, (key) =>
      unwrap(
        api.POST("/api/v1/invoices/{invoice_id}/payment-confirmation", {
          body,
          params: { path: { invoice_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  claims: (query: ClaimQuery) => unwrap(api.GET("/api/v1/payment-claims", { params: { query } })),
  pdf: (id: string) =>
    api.GET("/api/v1/invoices/{invoice_id}/pdf", { params: { path: { invoice_id: id } }, parseAs: "blob" }),
};

/** Open invoices are the proforma list; paid ones carry an invoice number. */
export const OPEN: InvoiceStatus[] = ["unpaid", "partially_paid"];
