/**
 * Plans, orders, subscriptions and contracts.
 * TODO(contract): the public schema does not type billing's bodies yet; these local types
 * mirror services/billing (views.py, api.py) and go once schema.d.ts describes them.
 */
import { IdempotentAction, typed, unwrap, type JsonOp, type Patch, type Paths, type ReadOp } from "../../api/client";
import type { Invoice, Page } from "../invoices/api";

export type Tier = "support" | "professional" | "premium";
/** Support < Professional < Premium: the order of the catalogue and of upgrades. */
export const TIERS: Tier[] = ["support", "professional", "premium"];

export interface Period {
  months: number;
  discount_percent: number;
  price: number;
}
export interface Plan {
  plan_id: string;
  code: string;
  name: string;
  category: string;
  tier: Tier;
  status: string;
  monthly_price: number;
  currency: string;
  description: string;
  periods: Period[];
}
export interface Subscription {
  id: string;
  contract_number: string;
  /** active, expired, … */
  status: string;
  plan_id: string;
  plan_code: string;
  plan_name: string;
  category: string;
  tier: Tier;
  currency: string;
  starts_on: string | null;
  ends_on: string | null;
  amount: number;
  auto_renew: boolean;
  auto_renew_months: number | null;
  days_left?: number;
}
export interface UpgradePreview {
  subscription_id: string;
  from: { plan_id: string; tier: Tier; name: string };
  to: { plan_id: string; tier: Tier; name: string };
  effective_on: string;
  ends_on: string;
  remaining_days: number;
  period_days: number;
  credit: number;
  charge: number;
  amount_due: number;
  currency: string;
}
export type DocumentName = "terms.pdf" | "terms.html" | "confirmation.pdf" | "confirmation.html";

type NoParams = { query?: never; header?: never; path?: never; cookie?: never };
type Keyed<P = never> = {
  header?: { "Idempotency-Key"?: string };
  path: P extends never ? never : P;
  query?: never;
  cookie?: never;
};
type SubPath = { path: { subscription_id: string }; query?: never; header?: never; cookie?: never };

type ServicesPaths = Patch<
  Paths,
  {
    "/api/v1/plans": { get: ReadOp<{ items: Plan[] } & Partial<Page<Plan>>, NoParams> };
    "/api/v1/orders": {
      post: JsonOp<{ plan_id: string; months: number }, Invoice, 201, { header?: { "Idempotency-Key"?: string }; path?: never; query?: never; cookie?: never }>;
    };
    "/api/v1/subscriptions": { get: ReadOp<Page<Subscription>, NoParams> };
    "/api/v1/purchases": { get: ReadOp<Page<Invoice>, { query?: { limit?: number; offset?: number }; path?: never; header?: never; cookie?: never }> };
    "/api/v1/subscriptions/{subscription_id}/renew": {
      post: JsonOp<{ months: number; pay_from_wallet: boolean }, Invoice, 201, Keyed<{ subscription_id: string }>>;
    };
    "/api/v1/subscriptions/{subscription_id}/auto-renew": {
      put: JsonOp<{ enabled: boolean; months?: number }, Subscription, 200, SubPath>;
    };
    "/api/v1/subscriptions/{subscription_id}/upgrade-preview": {
      get: ReadOp<UpgradePreview, { path: { subscription_id: string }; query: { plan_id: string }; header?: never; cookie?: never }>;
    };
    "/api/v1/subscriptions/{subscription_id}/upgrade": {
      post: JsonOp<
        { plan_id: string; pay_from_wallet: boolean; expected_charge: number },
        Invoice,
        201,
        Keyed<{ subscription_id: string }>
      >;
    };
    "/api/v1/contracts/{subscription_id}/documents/{document}": {
      get: ReadOp<Blob, { path: { subscription_id: string; document: DocumentName }; query?: never; header?: never; cookie?: never }>;
    };
  }
>;

const client = typed<ServicesPaths>();

export const servicesApi = {
  plans: () => unwrap(client.GET("/api/v1/plans")),
  order: (action: IdempotentAction, plan_id: string, months: number) =>
    action.run({ plan_id, months }, (key) =>
      unwrap(client.POST("/api/v1/orders", { body: { plan_id, months }, params: { header: { "Idempotency-Key": key } } })),
    ),
  subscriptions: () => unwrap(client.GET("/api/v1/subscriptions")),
  purchases: (offset: number, limit = 20) =>
    unwrap(client.GET("/api/v1/purchases", { params: { query: { offset, limit } } })),
  renew: (action: IdempotentAction, id: string, months: number, pay_from_wallet: boolean) =>
    action.run({ id, months, pay_from_wallet }, (key) =>
      unwrap(
        client.POST("/api/v1/subscriptions/{subscription_id}/renew", {
          body: { months, pay_from_wallet },
          params: { path: { subscription_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  autoRenew: (id: string, enabled: boolean) =>
    unwrap(
      client.PUT("/api/v1/subscriptions/{subscription_id}/auto-renew", {
        body: { enabled },
        params: { path: { subscription_id: id } },
      }),
    ),
  upgradePreview: (id: string, plan_id: string) =>
    unwrap(
      client.GET("/api/v1/subscriptions/{subscription_id}/upgrade-preview", {
        params: { path: { subscription_id: id }, query: { plan_id } },
      }),
    ),
  upgrade: (action: IdempotentAction, id: string, plan_id: string, expected_charge: number, pay_from_wallet: boolean) =>
    action.run({ id, plan_id, expected_charge, pay_from_wallet }, (key) =>
      unwrap(
        client.POST("/api/v1/subscriptions/{subscription_id}/upgrade", {
          body: { plan_id, pay_from_wallet, expected_charge },
          params: { path: { subscription_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  document: (id: string, document: DocumentName) =>
    client.GET("/api/v1/contracts/{subscription_id}/documents/{document}", {
      params: { path: { subscription_id: id, document } },
      parseAs: "blob",
    }),
};
