import ComingSoon from "../soon";

export default function Transactions() {
  return <ComingSoon titleKey="nav.transactions" />;
}
