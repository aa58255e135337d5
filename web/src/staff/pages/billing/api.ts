/** The payment-claims review of the billing back office, over the public schema's types. */
import { IdempotentAction, api, unwrap } from "../../../api/client";
import type { components, operations } from "../../../api/schema";

export type Claim = components["schemas"]["ClaimOut"];
export type ClaimQuery = NonNullable<operations["billing_V1PaymentClaimsListClaims"]["parameters"]["query"]>;

const at = (claim_id: string) => ({ claim_id });

export const claimsApi = {
  list: (query: ClaimQuery) => unwrap(api.GET("/api/v1/payment-claims", { params: { query } })),
  /** Approving pays the invoice: the key survives a retry of a lost answer (paid once). */
  approve: (action: IdempotentAction, id: string) =>
    action.run({ approve: id }, (key) =>
      unwrap(
        api.POST("/api/v1/payment-claims/{claim_id}/approve", {
          params: { path: at(id), header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  reject: (action: IdempotentAction, id: string, reason: string) =>
    action.run({ reject: id, reason }, (key) =>
      unwrap(
        api.POST("/api/v1/payment-claims/{claim_id}/reject", {
          body: { reason },
          params: { path: at(id), header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  proof: (id: string) =>
    api.GET("/api/v1/payment-claims/{claim_id}/proof", { params: { path: at(id) }, parseAs: "blob" }),
};
