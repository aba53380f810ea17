! Hopf normal form with an r^4 term (Bautin): x' = mu x - w y + g x, y' = w x + mu y + g y,
! g = l1 r^2 + l2 r^4; PAR(1) = mu = lam, PAR(2) = w, PAR(3) = l1, PAR(4) = l2 (pathtrack_problems'
! hopf-normal-form). With l1 = 1, l2 = -1 the subcritical cycles fold at lam = -1/4.
SUBROUTINE FUNC(NDIM,U,ICP,PAR,IJAC,F,DFDU,DFDP)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM, ICP(*), IJAC
  DOUBLE PRECISION, INTENT(IN) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(OUT) :: F(NDIM)
  DOUBLE PRECISION, INTENT(INOUT) :: DFDU(NDIM,NDIM), DFDP(NDIM,*)
  DOUBLE PRECISION :: r2, g, dg
  r2 = U(1)**2 + U(2)**2
  g = PAR(3)*r2 + PAR(4)*r2**2
  dg = PAR(3) + 2*PAR(4)*r2
  F(1) = PAR(1)*U(1) - PAR(2)*U(2) + g*U(1)
  F(2) = PAR(2)*U(1) + PAR(1)*U(2) + g*U(2)
  IF (IJAC == 0) RETURN
  DFDU(1,1) = PAR(1) + g + 2*dg*U(1)**2
  DFDU(1,2) = -PAR(2) + 2*dg*U(1)*U(2)
  DFDU(2,1) = PAR(2) + 2*dg*U(1)*U(2)
  DFDU(2,2) = PAR(1) + g + 2*dg*U(2)**2
  IF (IJAC == 1) RETURN
  DFDP(1,1) = U(1)
  DFDP(2,1) = U(2)
END SUBROUTINE FUNC

SUBROUTINE STPNT(NDIM,U,PAR,T)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM
  DOUBLE PRECISION, INTENT(INOUT) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(IN) :: T
  PAR(1) = -0.5d0
  PAR(2) = 1.3d0
  PAR(3) = 1d0
  PAR(4) = -1d0
  U(1) = 0d0
  U(2) = 0d0
END SUBROUTINE STPNT

INCLUDE 'stubs.inc'
