import { useEffect, useMemo, useRef, useState } from "react";
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Image,
  Modal,
  Pagination,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { IdempotentAction } from "../../../api/client";
import { ScrollTable } from "../../../components/ScrollTable";
import { PageLoader } from "../../../layout/AppLayout";
import { dateTime, money } from "../../../lib/format";
import { billingError } from "../../../pages/invoices/errors";
import { claimsApi, type Claim, type ClaimQuery } from "./api";

const PAGE = 20;
const VIEWS = ["review", "overdue", "approved", "rejected"] as const;
type View = (typeof VIEWS)[number];

function queryOf(view: View, page: number): ClaimQuery {
  const paging = { limit: PAGE, offset: (page - 1) * PAGE };
  if (view === "overdue") return { ...paging, overdue: true };
  return { ...paging, status: view === "review" ? "under_review" : view };
}

/** The proof the customer sent, shown inline (an image) or as a link (a PDF). */
function Proof({ claim }: { claim: Claim }) {
  const { t } = useTranslation("staff");
  const proof = useQuery({
    queryKey: ["staff", "claim-proof", claim.id],
    queryFn: async () => {
      const { data, response } = await claimsApi.proof(claim.id);
      if (!response.ok || !data) throw new Error(String(response.status));
      return data;
    },
    enabled: Boolean(claim.proof_file_id),
    staleTime: Infinity,
  });
  // The proof is fetched with the bearer token, so the page shows it from an object URL.
  const url = useMemo(() => (proof.data ? URL.createObjectURL(proof.data) : null), [proof.data]);
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);
  if (!claim.proof_file_id) return <Text size="sm" c="gray.7">{t("billing.noProof")}</Text>;
  if (proof.isError) return <Text size="sm" c="red.9">{t("billing.proofError")}</Text>;
  if (!url || !proof.data) return <PageLoader />;
  if (proof.data.type.startsWith("image/"))
    return <Image src={url} alt={t("billing.proofAlt", { reference: claim.reference })} mah={360} fit="contain" radius="sm" />;
  return (
    <Anchor href={url} target="_blank" rel="noopener">
      {t("billing.openProof")}
    </Anchor>
  );
}

function Review({ claim, onClose }: { claim: Claim; onClose: () => void }) {
  const { t } = useTranslation("staff");
  const queryClient = useQueryClient();
  const action = useRef(new IdempotentAction());
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const decide = useMutation({
    mutationFn: () =>
      rejecting ? claimsApi.reject(action.current, claim.id, reason.trim()) : claimsApi.approve(action.current, claim.id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["staff", "claims"] });
      await queryClient.invalidateQueries({ queryKey: ["staff", "dashboard"] });
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title={t("billing.reviewTitle", { reference: claim.reference })} size="lg" closeButtonProps={{ "aria-label": t("billing.close") }}>
      <Stack>
        <Table variant="vertical" layout="fixed">
          <Table.Tbody>
            <Table.Tr>
              <Table.Th w={160}>{t("billing.invoice")}</Table.Th>
              <Table.Td>{claim.invoice_proforma ?? claim.invoice_id}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>{t("billing.amount")}</Table.Th>
              <Table.Td className="money">{money(claim.amount, claim.currency)}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>{t("billing.paidOn")}</Table.Th>
              <Table.Td>{typeof claim.paid_on === "string" ? claim.paid_on : "—"}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>{t("billing.deadline")}</Table.Th>
              <Table.Td>
                <Deadline claim={claim} />
              </Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
        <Proof claim={claim} />
        {rejecting && (
          <Textarea
            label={t("billing.reason")}
            description={t("billing.reasonHelp")}
            required
            autosize
            minRows={2}
            value={reason}
            onChange={(e) => { setReason(e.currentTarget.value); }}
          />
        )}
        {decide.isError && (
          <Alert color="red" role="alert">
            {billingError(t, decide.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          {rejecting ? (
            <>
              <Button variant="default" onClick={() => { setRejecting(false); }}>
                {t("billing.back")}
              </Button>
              <Button color="red.9" loading={decide.isPending} disabled={!reason.trim()} onClick={() => { decide.mutate(); }}>
                {t("billing.confirmReject")}
              </Button>
            </>
          ) : (
            <>
              <Button variant="default" color="red.9" onClick={() => { setRejecting(true); }}>
                {t("billing.reject")}
              </Button>
              <Button color="teal.9" loading={decide.isPending} onClick={() => { decide.mutate(); }}>
                {t("billing.approve")}
              </Button>
            </>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}

function Deadline({ claim }: { claim: Claim }) {
  const { t } = useTranslation("staff");
  if (claim.status !== "under_review") return <Text size="sm">{typeof claim.decided_at === "string" ? dateTime(claim.decided_at) : "—"}</Text>;
  return claim.overdue ? (
    <Badge color="red.9" variant="filled">
      {t("billing.overdueSince", { at: dateTime(claim.review_due_at) })}
    </Badge>
  ) : (
    <Text size="sm">{t("billing.reviewBy", { at: dateTime(claim.review_due_at) })}</Text>
  );
}

/** Payment claims ("I paid but got no confirmation") to review within 24 hours of filing. */
export default function ClaimsReview() {
  const { t } = useTranslation("staff");
  const [params, setParams] = useSearchParams();
  const asked = params.get("view") ?? (params.get("overdue") ? "overdue" : "review");
  const view: View = VIEWS.includes(asked as View) ? (asked as View) : "review";
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const [open, setOpen] = useState<Claim | null>(null);
  const query = queryOf(view, page);
  const claims = useQuery({
    queryKey: ["staff", "claims", query],
    queryFn: () => claimsApi.list(query),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
  return (
    <Stack>
      <Title order={2}>{t("billing.title")}</Title>
      <SegmentedControl
        aria-label={t("billing.view")}
        value={view}
        onChange={(v) => { setParams(v === "review" ? {} : { view: v }, { replace: true }); }}
        data={VIEWS.map((v) => ({ value: v, label: t(`billing.views.${v}`) }))}
        style={{ alignSelf: "flex-start", maxWidth: "100%" }}
        styles={{ root: { flexWrap: "wrap" } }}
      />
      {claims.isPending ? (
        <PageLoader />
      ) : claims.isError ? (
        <Alert color="red" role="alert">
          {billingError(t, claims.error)}
        </Alert>
      ) : claims.data.items.length === 0 ? (
        <Text c="gray.7">{t("billing.none")}</Text>
      ) : (
        <ScrollTable label={t("billing.title")} minWidth={820}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("billing.filedAt")}</Table.Th>
                <Table.Th>{t("billing.invoice")}</Table.Th>
                <Table.Th>{t("billing.reference")}</Table.Th>
                <Table.Th ta="right">{t("billing.amount")}</Table.Th>
                <Table.Th>{t("billing.deadline")}</Table.Th>
                <Table.Th>{t("billing.action")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {claims.data.items.map((c) => (
                <Table.Tr key={c.id} data-testid={`claim-row-${c.reference}`} bg={c.overdue ? "red.0" : undefined}>
                  <Table.Td>{dateTime(c.filed_at)}</Table.Td>
                  <Table.Td>{c.invoice_proforma ?? c.invoice_id}</Table.Td>
                  <Table.Td ff="monospace">{c.reference}</Table.Td>
                  <Table.Td ta="right" className="money">
                    {money(c.amount, c.currency)}
                  </Table.Td>
                  <Table.Td>
                    <Deadline claim={c} />
                    {c.status === "rejected" && typeof c.rejection_reason === "string" && (
                      <Text size="sm" c="red.9">
                        {c.rejection_reason}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {c.status === "under_review" ? (
                      <Button size="compact-sm" onClick={() => { setOpen(c); }} aria-label={t("billing.reviewOne", { reference: c.reference })}>
                        {t("billing.review")}
                      </Button>
                    ) : (
                      <Text size="sm">{t(`billing.status.${c.status}`)}</Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {claims.data && claims.data.total > PAGE && (
        <Pagination
          total={Math.ceil(claims.data.total / PAGE)}
          value={page}
          onChange={(p) => {
            const next = new URLSearchParams(params);
            next.set("page", String(p));
            setParams(next, { replace: true });
          }}
          getControlProps={(control) => ({ "aria-label": t(`paging.${control}`) })}
          getItemProps={(p) => ({ "aria-label": t("paging.page", { page: p }) })}
        />
      )}
      {open && <Review claim={open} onClose={() => { setOpen(null); }} />}
    </Stack>
  );
}
