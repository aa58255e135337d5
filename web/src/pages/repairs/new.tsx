import { useState } from "react";
import {
  Alert,
  Button,
  Card,
  Checkbox,
  Chip,
  Group,
  Radio,
  Select,
  SimpleGrid,
  Stack,
  TextInput,
  Textarea,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconDeviceFloppy } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { BackLink } from "../../components/BackLink";
import { IdempotentAction } from "../../api/client";
import { areaError, problemField } from "../../lib/areaError";
import { dayjs, timeZone } from "../../lib/format";
import { SERIAL, repairsApi, type RegistrationBody } from "./api";
import { useBranches } from "./components/common";

const CHECKLIST = ["scratches", "dents", "cracked_screen", "missing_screws", "missing_keys", "broken_hinge", "stickers"] as const;
/** Problem codes that concern one field of this form. */
const FIELDS: Record<string, string> = {
  unknown_branch: "branch_id",
  return_address_required: "return_address",
  serial_required: "serial",
};

interface Values {
  model: string;
  serial: string;
  problem: string;
  adapter_included: boolean;
  checklist: string[];
  notes: string;
  branch_id: string | null;
  delivery_method: RegistrationBody["delivery_method"];
  delivery_date: string;
  deliverer_name: string;
  deliverer_contact: string;
  return_method: RegistrationBody["return_method"];
  return_address: string;
}

/**
 * Device intake (seed 004 "register a device for repair"): model and serial, the problem,
 * adapter, outside condition, the branch it goes to, how it is handed over (date, who, their
 * ID or phone) and how it comes back.
 */
export default function NewRepair() {
  const { t } = useTranslation("repairs");
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const branches = useBranches();
  const [action] = useState(() => new IdempotentAction());
  const [error, setError] = useState<string | null>(null);
  const max = (n: number) => (v: string) => (v.length > n ? t("tooLong", { count: n }) : null);
  const form = useForm<Values>({
    initialValues: {
      model: "",
      serial: "",
      problem: "",
      adapter_included: false,
      checklist: [],
      notes: "",
      branch_id: null,
      delivery_method: "drop_off",
      delivery_date: dayjs().tz(timeZone()).format("YYYY-MM-DD"),
      deliverer_name: "",
      deliverer_contact: "",
      return_method: "pickup",
      return_address: "",
    },
    // RegistrationIn's constraints, checked before anything is sent.
    validate: {
      model: (v) => (!v.trim() ? t("modelRequired") : max(200)(v)),
      serial: (v) => (!v.trim() ? t("serialRequired") : !SERIAL.test(v.trim()) ? t("serialInvalid") : max(100)(v)),
      problem: (v) => (!v.trim() ? t("problemRequired") : max(4000)(v)),
      notes: max(2000),
      branch_id: (v) => (v ? null : t("branchRequired")),
      delivery_date: (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? null : t("deliveryDateRequired")),
      deliverer_name: (v) => (!v.trim() ? t("delivererNameRequired") : max(200)(v)),
      deliverer_contact: (v) => (v.trim().length >= 6 && v.trim().length <= 30 ? null : t("delivererContactInvalid")),
      return_address: (v, values) =>
        values.return_method === "shipping" && !v.trim() ? t("returnAddressRequired") : max(500)(v),
    },
  });

  async function submit(values: Values) {
    setError(null);
    const body: RegistrationBody = {
      account_id: null,
      model: values.model.trim(),
      serial: values.serial.trim(),
      problem: values.problem.trim(),
      adapter_included: values.adapter_included,
      // The condition is written in the reader's words: staff read it as it was ticked.
      condition: { checklist: values.checklist.map((item) => t(`checklistItems.${item}`)), notes: values.notes.trim() },
      branch_id: values.branch_id ?? "",
      delivery_method: values.delivery_method,
      delivery_date: values.delivery_date,
      deliverer_name: values.deliverer_name.trim(),
      deliverer_contact: values.deliverer_contact.trim(),
      return_method: values.return_method,
      return_address: values.return_method === "shipping" ? values.return_address.trim() : null,
    };
    try {
      const repair = await action.run(body, (key) => repairsApi.register(body, key));
      void queryClient.invalidateQueries({ queryKey: ["repairs"] });
      queryClient.setQueryData(["repair", repair.id], repair);
      void navigate(`/repairs/${repair.id}`, { state: { registered: repair.repair_number } });
    } catch (err) {
      const field = problemField(err, FIELDS);
      if (field && field in form.values) form.setFieldError(field, areaError(t, "repairs", err));
      else setError(areaError(t, "repairs", err));
    }
  }

  return (
    <Stack>
      <BackLink to="/repairs">{t("backToList")}</BackLink>
      <form onSubmit={form.onSubmit(submit)} noValidate>
        <Stack maw={900}>
          {/* The seed's portal keeps "save" at the top of the form; it is repeated at the end. */}
          <Group justify="space-between">
            <Title order={2}>{t("newTitle")}</Title>
            <Button type="submit" loading={form.submitting} leftSection={<IconDeviceFloppy size={16} />} visibleFrom="sm">
              {t("save")}
            </Button>
          </Group>
          <Card component="fieldset" m={0}>
            <Title order={3} size="h5" mb="sm" component="legend">
              {t("sections.device")}
            </Title>
            <Stack>
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput label={t("model")} required maxLength={200} {...form.getInputProps("model")} />
                <TextInput label={t("serial")} required maxLength={100} {...form.getInputProps("serial")} />
              </SimpleGrid>
              <Textarea label={t("problem")} required autosize minRows={3} maxRows={10} {...form.getInputProps("problem")} />
              <Checkbox label={t("adapter")} {...form.getInputProps("adapter_included", { type: "checkbox" })} />
            </Stack>
          </Card>
          <Card component="fieldset" m={0}>
            <Title order={3} size="h5" mb="sm" component="legend">
              {t("sections.condition")}
            </Title>
            <Stack>
              <Chip.Group multiple {...form.getInputProps("checklist")}>
                <Group gap="xs" role="group" aria-label={t("checklist")}>
                  {CHECKLIST.map((item) => (
                    <Chip key={item} value={item} variant="outline">
                      {t(`checklistItems.${item}`)}
                    </Chip>
                  ))}
                </Group>
              </Chip.Group>
              <Textarea label={t("conditionNotes")} autosize minRows={2} maxRows={6} {...form.getInputProps("notes")} />
            </Stack>
          </Card>
          <Card component="fieldset" m={0}>
            <Title order={3} size="h5" mb="sm" component="legend">
              {t("sections.delivery")}
            </Title>
            <Stack>
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <Select label={t("branch")} required data={branches.options} {...form.getInputProps("branch_id")} />
                <TextInput type="date" label={t("deliveryDate")} required {...form.getInputProps("delivery_date")} />
              </SimpleGrid>
              <Radio.Group label={t("deliveryMethod")} {...form.getInputProps("delivery_method")}>
                <Group mt={6}>
                  <Radio value="drop_off" label={t("deliveryMethods.drop_off")} />
                  <Radio value="courier_pickup" label={t("deliveryMethods.courier_pickup")} />
                </Group>
              </Radio.Group>
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput label={t("delivererName")} required maxLength={200} {...form.getInputProps("deliverer_name")} />
                <TextInput label={t("delivererContact")} required maxLength={30} {...form.getInputProps("deliverer_contact")} />
              </SimpleGrid>
            </Stack>
          </Card>
          <Card component="fieldset" m={0}>
            <Title order={3} size="h5" mb="sm" component="legend">
              {t("sections.return")}
            </Title>
            <Stack>
              <Radio.Group label={t("returnMethod")} {...form.getInputProps("return_method")}>
                <Group mt={6}>
                  <Radio value="pickup" label={t("returnMethods.pickup")} />
                  <Radio value="shipping" label={t("returnMethods.shipping")} />
                </Group>
              </Radio.Group>
              {form.values.return_method === "shipping" && (
                <Textarea label={t("returnAddress")} required autosize minRows={2} maxLength={500} {...form.getInputProps("return_address")} />
              )}
            </Stack>
          </Card>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button type="submit" loading={form.submitting} leftSection={<IconDeviceFloppy size={16} />}>
              {t("save")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
