/**
 * Billing calls of the invoices screen (and of the buy flow on the services screen).
 * TODO(contract): the public schema does not type billing's bodies yet; these local types
 * mirror services/billing (views.py, api.py) and go once schema.d.ts describes them.
 */
import { IdempotentAction, typed, unwrap, type JsonOp, type Patch, type Paths, type ReadOp } from "../../api/client";

export type InvoiceStatus = "unpaid" | "partially_paid" | "paid" | "cancelled";
export type PayMethod = "wallet" | "bank_transfer";

export interface InvoiceLine {
  description: string;
  amount: number;
}
export interface InvoicePayment {
  payment_id: string;
  channel: string;
  amount: number;
  applied: number;
  excess_to_wallet: number;
  reference: string | null;
  at: string;
}
export interface PaymentRequest {
  top_up_id: string;
  status: string;
  amount: number;
  currency: string;
  payment: { provider: string; reference: string; expires_at: string; qr_payload?: string } | null;
}
export interface Invoice {
  id: string;
  proforma_number: string;
  invoice_number: string | null;
  order_kind: "new" | "renewal" | "upgrade";
  subscription_id: string;
  plan_id: string;
  plan_name: string;
  category: string;
  tier: string;
  months: number;
  lines: InvoiceLine[];
  total: number;
  paid: number;
  amount_due: number;
  currency: string;
  status: InvoiceStatus;
  issued_at: string;
  due_at: string | null;
  paid_at: string | null;
  payments: InvoicePayment[];
  payments_in_progress: { payment_id: string; amount: number; channel: string }[];
  refunded_to_wallet?: number;
  cancel_reason?: string;
  claims?: Claim[];
  /** Only in the answer of a provider payment: the transfer to make. */
  payment_request?: PaymentRequest;
}
export interface Claim {
  id: string;
  claim_id: string;
  invoice_id: string;
  invoice_proforma: string | null;
  reference: string;
  amount: number;
  currency: string;
  paid_on: string | null;
  proof_file_id: string | null;
  status: "under_review" | "approved" | "rejected";
  filed_at: string;
  review_due_at: string | null;
  rejection_reason: string | null;
  overdue: boolean;
}
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
export interface PayBody {
  method: PayMethod;
  amount?: number;
}
export interface ClaimBody {
  reference: string;
  amount: number;
  paid_on?: string;
  proof?: { filename: string; content_base64: string };
}

type InvoicePath = { path: { invoice_id: string }; query?: never; header?: never; cookie?: never };
type KeyedInvoicePath = { path: { invoice_id: string }; header?: { "Idempotency-Key"?: string }; query?: never; cookie?: never };
type ListQuery = {
  query?: { status?: InvoiceStatus; kind?: string; limit?: number; offset?: number };
  path?: never;
  header?: never;
  cookie?: never;
};
type ClaimQuery = {
  query?: { status?: Claim["status"]; limit?: number; offset?: number };
  path?: never;
  header?: never;
  cookie?: never;
};

type BillingPaths = Patch<
  Paths,
  {
    "/api/v1/invoices": { get: ReadOp<Page<Invoice>, ListQuery> };
    "/api/v1/invoices/{invoice_id}": { get: ReadOp<Invoice, InvoicePath> };
    "/api/v1/invoices/{invoice_id}/pay": { post: JsonOp<PayBody, Invoice, 200 | 202, KeyedInvoicePath> };
    "/api/v1/invoices/{invoice_id}/cancel": { post: JsonOp<Record<string, never>, Invoice, 200, InvoicePath> };
    "/api/v1/invoices/{invoice_id}/payment-confirmation": {
      post: JsonOp<ClaimBody, Claim, 201, KeyedInvoicePath>;
    };
    "/api/v1/payment-claims": { get: ReadOp<Page<Claim>, ClaimQuery> };
  }
>;

const client = typed<BillingPaths>();

export const invoicesApi = {
  list: (query: ListQuery["query"]) => unwrap(client.GET("/api/v1/invoices", { params: { query } })),
  get: (id: string) => unwrap(client.GET("/api/v1/invoices/{invoice_id}", { params: { path: { invoice_id: id } } })),
  /** One payment action: its key survives a retry of a lost answer (charged once). */
  pay: (action: IdempotentAction, id: string, body: PayBody) =>
    action.run({ id, ...body }, (key) =>
      unwrap(
        client.POST("/api/v1/invoices/{invoice_id}/pay", {
          body,
          params: { path: { invoice_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  cancel: (id: string) =>
    unwrap(client.POST("/api/v1/invoices/{invoice_id}/cancel", { body: {}, params: { path: { invoice_id: id } } })),
  claim: (action: IdempotentAction, id: string, body: ClaimBody) =>
    action.run({ id, ...body }, (key) =>
      unwrap(
        client.POST("/api/v1/invoices/{invoice_id}/payment-confirmation", {
          body,
          params: { path: { invoice_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  claims: (query: ClaimQuery["query"]) => unwrap(client.GET("/api/v1/payment-claims", { params: { query } })),
  pdf: (id: string) =>
    client.GET("/api/v1/invoices/{invoice_id}/pdf", { params: { path: { invoice_id: id } }, parseAs: "blob" }),
};

/** Open invoices are the proforma list; paid ones carry an invoice number. */
export const OPEN: InvoiceStatus[] = ["unpaid", "partially_paid"];
