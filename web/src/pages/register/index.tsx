import ComingSoon from "../soon";

export default function Register() {
  return <ComingSoon titleKey="auth.register" />;
}
