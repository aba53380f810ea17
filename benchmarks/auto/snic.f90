! Circle r = sqrt(lam) with a saddle-node on it (pathtrack_problems' snic-circle):
! x' = x (lam - r^2) - y (w + a y), y' = y (lam - r^2) + x (w + a y); PAR(1) = lam, PAR(2) = w,
! PAR(3) = a. The period 2 pi / sqrt(w^2 - a^2 lam) diverges at lam = w^2/a^2 (1 here).
SUBROUTINE FUNC(NDIM,U,ICP,PAR,IJAC,F,DFDU,DFDP)
  IMPLICIT NONE
  INTEGER, INTENT(IN) :: NDIM, ICP(*), IJAC
  DOUBLE PRECISION, INTENT(IN) :: U(NDIM), PAR(*)
  DOUBLE PRECISION, INTENT(OUT) :: F(NDIM)
  DOUBLE PRECISION, INTENT(INOUT) :: DFDU(NDIM,NDIM), DFDP(NDIM,*)
  DOUBLE PRECISION :: g, w
  g = PAR(1) - U(1)**2 - U(2)**2
  w = PAR(2) + PAR(3)*U(2)
  F(1) = U(1)*g - U(2)*w
  F(2) = U(2)*g + U(1)*w
  IF (IJAC == 0) RETURN
  DFDU(1,1) = g - 2*U(1)**2
  DFDU(1,2) = -2*U(1)*U(2) - w - PAR(3)*U(2)
  DFDU(2,1) = -2*U(1)*U(2) + w
  DFDU(2,2) = g - 2*U(2)**2 + PAR(3)*U(1)
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
  PAR(2) = 1d0
  PAR(3) = 1d0
  U(1) = 0d0
  U(2) = 0d0
END SUBROUTINE STPNT

INCLUDE 'stubs.inc'
